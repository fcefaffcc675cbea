package org.ovis4j.train.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TimestepEmbeddingOpTest {
    /**
     * One row per sample, [cos | sin] of 1000·σ·10000^(−k/128), against double precision. The float32
     * argument τ·ω (up to 1000) carries a rounding error of up to ~1000·2^−23 ≈ 1.2e-4 rad, which is the
     * whole difference: 2e-4 absolute.
     */
    @Test
    void rowsAreTheSinusoidOfEachSamplesSigma() {
        float[] sigmas = {0.82f, 0.27f, 1f, 0f, 0.001f};
        float[] out = new float[sigmas.length * 256];
        TimestepEmbeddingOp.forward(sigmas, sigmas.length, out);
        for (int b = 0; b < sigmas.length; b++)
            for (int k = 0; k < 128; k++) {
                double arg = 1000.0 * sigmas[b] * Math.exp(-Math.log(10000) * k / 128);
                assertEquals(Math.cos(arg), out[b * 256 + k], 2e-4, "cos " + b + "," + k);
                assertEquals(Math.sin(arg), out[b * 256 + 128 + k], 2e-4, "sin " + b + "," + k);
            }
    }
}
