package org.ovis4j.train.ops;


/**
 * Rotary position embedding, as the inference {@code Rope} kernels define it, in either pairing of the
 * head dims: {@link Pairing#INTERLEAVED} (FLUX, {@code Rope.applyInterleaved}) rotates dims (2j, 2j+1)
 * by the angle of pair j; {@link Pairing#HALVES} (Qwen3's rotate-half, {@code Rope.applyRotateHalf})
 * rotates dims (j, j + headDim/2). Either way y₀ = x₀·cos − x₁·sin, y₁ = x₁·cos + x₀·sin. Rows are
 * tokens of [heads x headDim]; the tables cos/sin [tableRows, headDim/2] repeat every tableRows rows
 * (one table for all samples of a batch). Out of place; the backward is the rotation by the opposite
 * angle and needs nothing saved.
 */
public final class RopeOp {
    /** Which two dims of a head form rotation pair j. */
    public enum Pairing {
        /** (2j, 2j + 1): FLUX and the MMDiT. */
        INTERLEAVED,
        /** (j, j + headDim/2): transformers' rotate_half, Qwen3. */
        HALVES
    }

    private RopeOp() {}

    public static void forward(float[] x, int rows, int heads, int headDim, float[] cos, float[] sin, int tableRows, float[] out) {
        forward(x, rows, heads, headDim, cos, sin, tableRows, Pairing.INTERLEAVED, out);
    }

    /** dx = R(−θ)·dOut; dx may be dOut itself. */
    public static void backward(float[] dout, int rows, int heads, int headDim, float[] cos, float[] sin, int tableRows, float[] dx) {
        backward(dout, rows, heads, headDim, cos, sin, tableRows, Pairing.INTERLEAVED, dx);
    }

    public static void forward(float[] x, int rows, int heads, int headDim, float[] cos, float[] sin, int tableRows,
                               Pairing pairing, float[] out) {
        rotate(x, rows, heads, headDim, cos, sin, tableRows, pairing, 1f, out);
    }

    /** dx = R(−θ)·dOut; dx may be dOut itself. */
    public static void backward(float[] dout, int rows, int heads, int headDim, float[] cos, float[] sin, int tableRows,
                                Pairing pairing, float[] dx) {
        rotate(dout, rows, heads, headDim, cos, sin, tableRows, pairing, -1f, dx);
    }

    private static void rotate(float[] x, int rows, int heads, int headDim, float[] cos, float[] sin, int tableRows,
                               Pairing pairing, float sign, float[] out) {
        int half = headDim / 2;
        // pair j is (x[step·j], x[step·j + partner]) within each head
        int step = pairing == Pairing.INTERLEAVED ? 2 : 1, partner = pairing == Pairing.INTERLEAVED ? 1 : half;
        RowTasks.forEach(rows, heads * headDim, r -> {
            int t = (r % tableRows) * half;
            for (int h = 0; h < heads; h++) {
                int o = (r * heads + h) * headDim;
                for (int j = 0; j < half; j++) {
                    float c = cos[t + j], s = sign * sin[t + j];
                    int i = o + step * j;
                    float a = x[i], b = x[i + partner];
                    out[i] = a * c - b * s;
                    out[i + partner] = b * c + a * s;
                }
            }
        });
    }
}
