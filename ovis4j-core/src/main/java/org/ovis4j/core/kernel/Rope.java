package org.ovis4j.core.kernel;

/**
 * Rotary position embeddings applied in place to rows of [heads x headDim] vectors, from per-row
 * tables cos/sin of width headDim/2 (one angle per rotated pair).
 */
public final class Rope {
    private Rope() {}

    /** Pairs (2j, 2j+1) rotate by angle j (FLUX/MMDiT layout). */
    public static void applyInterleaved(float[] x, int rows, int heads, int headDim, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int r = 0; r < rows; r++) {
            int t = r * half;
            for (int h = 0; h < heads; h++) {
                int o = (r * heads + h) * headDim;
                for (int j = 0; j < half; j++) {
                    float c = cos[t + j], s = sin[t + j];
                    float a = x[o + 2 * j], b = x[o + 2 * j + 1];
                    x[o + 2 * j] = a * c - b * s;
                    x[o + 2 * j + 1] = b * c + a * s;
                }
            }
        }
    }

    /** Pairs (j, j + headDim/2) rotate by angle j (Llama/Qwen "rotate half" layout). */
    public static void applyRotateHalf(float[] x, int rows, int heads, int headDim, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int r = 0; r < rows; r++) {
            int t = r * half;
            for (int h = 0; h < heads; h++) {
                int o = (r * heads + h) * headDim;
                for (int j = 0; j < half; j++) {
                    float c = cos[t + j], s = sin[t + j];
                    float a = x[o + j], b = x[o + j + half];
                    x[o + j] = a * c - b * s;
                    x[o + j + half] = b * c + a * s;
                }
            }
        }
    }
}
