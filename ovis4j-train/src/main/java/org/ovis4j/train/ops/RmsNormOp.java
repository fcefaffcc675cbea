package org.ovis4j.train.ops;


/**
 * RMSNorm with a learned weight, y = x·rstd·w with rstd = 1/sqrt(mean(x²) + eps), over rows of width
 * dim: per attention head (dim = head dim, the QK norms) or over the text width (context_embedder_norm).
 * Out of place, saving rstd per row; the statistic is computed as the inference kernel does (double,
 * rounded to float).
 */
public final class RmsNormOp {
    private RmsNormOp() {}

    /** out[outOff + r·dim + i] = x[xOff + r·dim + i]·rstd_r·w[i]; rstd[statOff + r] receives rstd_r. */
    public static void forward(float[] x, int xOff, int rows, int dim, float[] w, float eps,
                               float[] out, int outOff, float[] rstd, int statOff) {
        RowTasks.forEach(rows, dim, r -> {
            int o = xOff + r * dim, p = outOff + r * dim;
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[o + i] * x[o + i];
            float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
            rstd[statOff + r] = inv;
            for (int i = 0; i < dim; i++) out[p + i] = x[o + i] * inv * w[i];
        });
    }

    /**
     * Writes dx = rstd·(g − x̂·mean(g·x̂)) with g = dOut·w and x̂ = x·rstd, and adds Σ_r dOut·x̂ into dw
     * (unless null: a frozen weight). dx may be dOut itself (each row is read before it is written).
     */
    public static void backward(float[] x, int xOff, int rows, int dim, float[] w, float[] rstd, int statOff,
                                float[] dout, int doutOff, float[] dx, int dxOff, float[] dw) {
        if (dw != null) {
            // before dx, which may overwrite dout
            double[] sum = ColumnSums.of(rows, dim, (r, acc) -> {
                int o = xOff + r * dim, g = doutOff + r * dim;
                float inv = rstd[statOff + r];
                for (int i = 0; i < dim; i++) acc[i] += (double) dout[g + i] * (x[o + i] * inv);
            });
            ColumnSums.addInto(sum, 0, dw, 0, dim);
        }
        RowTasks.forEach(rows, dim, r -> {
            int o = xOff + r * dim, g = doutOff + r * dim, d = dxOff + r * dim;
            float inv = rstd[statOff + r];
            double dot = 0;
            for (int i = 0; i < dim; i++) dot += (double) dout[g + i] * w[i] * (x[o + i] * inv);
            double meanGx = dot / dim;
            for (int i = 0; i < dim; i++) {
                double gi = (double) dout[g + i] * w[i];
                dx[d + i] = (float) (inv * (gi - (x[o + i] * inv) * meanGx));
            }
        });
    }
}
