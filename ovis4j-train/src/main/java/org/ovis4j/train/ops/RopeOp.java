package org.ovis4j.train.ops;


/**
 * Rotary position embedding with interleaved pairs, as the inference {@code PositionEmbedding} tables
 * and {@code Rope.applyInterleaved} define it: head dims (2j, 2j+1) rotate by the angle of pair j,
 * y₀ = x₀·cos − x₁·sin, y₁ = x₁·cos + x₀·sin. Rows are tokens of [heads x headDim]; the tables
 * cos/sin [tableRows, headDim/2] repeat every tableRows rows (one table for all samples of a batch).
 * Out of place; the backward is the rotation by the opposite angle and needs nothing saved.
 */
public final class RopeOp {
    private RopeOp() {}

    public static void forward(float[] x, int rows, int heads, int headDim, float[] cos, float[] sin, int tableRows, float[] out) {
        rotate(x, rows, heads, headDim, cos, sin, tableRows, 1f, out);
    }

    /** dx = R(−θ)·dOut; dx may be dOut itself. */
    public static void backward(float[] dout, int rows, int heads, int headDim, float[] cos, float[] sin, int tableRows, float[] dx) {
        rotate(dout, rows, heads, headDim, cos, sin, tableRows, -1f, dx);
    }

    private static void rotate(float[] x, int rows, int heads, int headDim, float[] cos, float[] sin, int tableRows,
                               float sign, float[] out) {
        int half = headDim / 2;
        RowTasks.forEach(rows, heads * headDim, r -> {
            int t = (r % tableRows) * half;
            for (int h = 0; h < heads; h++) {
                int o = (r * heads + h) * headDim;
                for (int j = 0; j < half; j++) {
                    float c = cos[t + j], s = sign * sin[t + j];
                    int i = o + 2 * j;
                    float a = x[i], b = x[i + 1];
                    out[i] = a * c - b * s;
                    out[i + 1] = b * c + a * s;
                }
            }
        });
    }
}
