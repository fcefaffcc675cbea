package org.ovis4j.dit;

import org.ovis4j.checkpoint.Projections;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.Projection;

/**
 * τ = 1000·σ → 256-wide sinusoid [cos | sin] → linear → SiLU → linear: the conditioning vector that
 * drives every AdaLN modulation. The sinusoid follows diffusers' float32 arithmetic step by step.
 */
public final class TimestepEmbedding {
    private final Projection linear1, linear2;

    TimestepEmbedding(Projections m) {
        linear1 = m.of("timestep_embedder.linear_1");
        linear2 = m.of("timestep_embedder.linear_2");
    }

    /**
     * The 256 sinusoid features of σ (cos first: flip_sin_to_cos, no frequency shift). Public as the
     * one implementation training shares (its float32 rounding is most of the float32 error of the
     * transformer's gradients, so both must round alike).
     */
    public static float[] sinusoid(float sigma) {
        int half = TransformerConfig.TIME_EMBED_DIM / 2;
        float tau = sigma * 1000f;
        float logMax = (float) -Math.log(10000.0);
        float[] e = new float[2 * half];
        for (int k = 0; k < half; k++) {
            float freq = (float) Math.exp(logMax * (float) k / (float) half);
            float arg = tau * freq;
            e[k] = (float) Math.cos(arg);
            e[half + k] = (float) Math.sin(arg);
        }
        return e;
    }

    /** The conditioning vectors [n, D] for n values of σ, one row each. */
    float[] forward(float[] sigmas) {
        int n = sigmas.length, width = TransformerConfig.TIME_EMBED_DIM;
        float[] e = new float[n * width];
        for (int i = 0; i < n; i++) System.arraycopy(sinusoid(sigmas[i]), 0, e, i * width, width);
        float[] h = linear1.apply(e, n);
        Activations.silu(h, h.length);
        return linear2.apply(h, n);
    }
}
