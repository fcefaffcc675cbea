package org.ovis4j.core.kernel;

/**
 * Rotary position embeddings applied in place to rows of [heads x headDim] vectors, from per-row
 * tables cos/sin of width headDim/2 (one angle per rotated pair).
 */
public final class Rope {
    private Rope() {}

    /** Pairs (2j, 2j+1) rotate by angle j (FLUX/MMDiT layout). */
    public static void applyInterleaved(float[] x, int rows, int heads, int headDim, float[] cos, float[] sin) {
        apply(x, rows, heads, headDim, cos, sin, 2, 1);
    }

    /** Pairs (j, j + headDim/2) rotate by angle j (Llama/Qwen "rotate half" layout). */
    public static void applyRotateHalf(float[] x, int rows, int heads, int headDim, float[] cos, float[] sin) {
        apply(x, rows, heads, headDim, cos, sin, 1, headDim / 2);
    }

    /** Pair j is (x[step·j], x[step·j + partner]) within each head. */
    private static void apply(float[] x, int rows, int heads, int headDim, float[] cos, float[] sin, int step, int partner) {
        int half = headDim / 2;
        for (int r = 0; r < rows; r++) {
            int t = r * half;
            for (int h = 0; h < heads; h++) {
                int o = (r * heads + h) * headDim;
                for (int j = 0; j < half; j++) {
                    float c = cos[t + j], s = sin[t + j];
                    int i = o + step * j;
                    float a = x[i], b = x[i + partner];
                    x[i] = a * c - b * s;
                    x[i + partner] = b * c + a * s;
                }
            }
        }
    }
}
