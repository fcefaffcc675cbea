package org.ovis4j.train.ops;


/**
 * The gated residual update of the MMDiT blocks, out = res + gate ⊙ y (gate: one AdaLN chunk of the
 * sample, broadcast over its rows). Out of place, so the block input stays available to the backward
 * (and to recomputation). Backward: the residual path passes dOut through unchanged (the caller keeps
 * using the same gradient buffer), dy = dOut ⊙ gate, dGate += Σ_r dOut ⊙ y (y is the saved branch output).
 */
public final class GatedResidualOp {
    private GatedResidualOp() {}

    /** out[outOff + r·dim + i] = res[resOff + r·dim + i] + gate[gOff + i]·y[yOff + r·dim + i]; out may be res. */
    public static void forward(float[] res, int resOff, float[] y, int yOff, int rows, int dim, float[] gate, int gOff,
                               float[] out, int outOff) {
        RowTasks.forEach(rows, dim, r -> {
            int a = resOff + r * dim, b = yOff + r * dim, o = outOff + r * dim;
            for (int i = 0; i < dim; i++) out[o + i] = res[a + i] + gate[gOff + i] * y[b + i];
        });
    }

    /** Writes dy = dOut ⊙ gate and adds Σ_r dOut ⊙ y into dgate[dgOff ..] (unless dgate is null). */
    public static void backward(float[] dout, int doutOff, float[] y, int yOff, int rows, int dim, float[] gate, int gOff,
                                float[] dy, int dyOff, float[] dgate, int dgOff) {
        if (dgate != null) {
            double[] sum = ColumnSums.of(rows, dim, (r, acc) -> {
                int a = doutOff + r * dim, b = yOff + r * dim;
                for (int i = 0; i < dim; i++) acc[i] += (double) dout[a + i] * y[b + i];
            });
            ColumnSums.addInto(sum, 0, dgate, dgOff, dim);
        }
        RowTasks.forEach(rows, dim, r -> {
            int a = doutOff + r * dim, o = dyOff + r * dim;
            for (int i = 0; i < dim; i++) dy[o + i] = dout[a + i] * gate[gOff + i];
        });
    }
}
