package org.ovis4j.train.ops;

import org.ovis4j.dit.TimestepEmbedding;
import org.ovis4j.dit.TransformerConfig;

/**
 * The timestep sinusoid of a batch with one σ per sample (training batches mix noise levels): row b
 * is [cos(τ_b·ω_k) | sin(τ_b·ω_k)], τ_b = float32(1000·σ_b), ω_k = float32 exp(−ln(10000)·k/128),
 * every product and the sin/cos rounded to float32 as diffusers computes them (the float32 rounding
 * of these arguments up to 1000 is most of the float32 error of the transformer's gradients, goldens
 * README 9.9). The arithmetic is the inference model's ({@link TimestepEmbedding#sinusoid}), so both
 * round alike. No backward: σ is data, not a trained quantity; the gradient stops at linear_1.
 */
public final class TimestepEmbeddingOp {
    public static final int WIDTH = TransformerConfig.TIME_EMBED_DIM;

    private TimestepEmbeddingOp() {}

    /** out [samples, 256]. */
    public static void forward(float[] sigmas, int samples, float[] out) {
        for (int b = 0; b < samples; b++) System.arraycopy(TimestepEmbedding.sinusoid(sigmas[b]), 0, out, b * WIDTH, WIDTH);
    }
}
