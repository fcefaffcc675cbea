package org.ovis4j.dit;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.Linear;

/**
 * τ = 1000·σ → 256-wide sinusoid [cos | sin] → linear → SiLU → linear: the conditioning vector that
 * drives every AdaLN modulation. The sinusoid follows diffusers' float32 arithmetic step by step.
 */
public final class TimestepEmbedding {
    private final Linear linear1, linear2;

    TimestepEmbedding(Weights w) {
        linear1 = new Linear(w.get("timestep_embedder.linear_1.weight"), w.get("timestep_embedder.linear_1.bias"));
        linear2 = new Linear(w.get("timestep_embedder.linear_2.weight"), w.get("timestep_embedder.linear_2.bias"));
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

    /** The conditioning vector [D] for one σ. */
    float[] forward(float sigma) {
        float[] h = linear1.apply(sinusoid(sigma), 1);
        Activations.silu(h, h.length);
        return linear2.apply(h, 1);
    }
}
