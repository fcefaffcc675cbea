package org.ovis4j.train.ops;


/**
 * LayerNorm without affine followed by the AdaLN modulation, out = LN(x)·(1 + scale) + shift, with
 * the shift and scale of one sample (chunks of its modulation vector, read at offsets), and its
 * backward. The forward saves each row's mean and 1/σ; the backward rebuilds x̂ = (x − mean)/σ from
 * them and x. Statistics are computed as the inference kernel computes them (in double, rounded to
 * float), so a training forward gives the inference forward's values.
 */
public final class LayerNormModulateOp {
    private LayerNormModulateOp() {}

    /**
     * out[outOff + r·dim + i] = (x − mean_r)·rstd_r·(1 + mod[scaleOff + i]) + mod[shiftOff + i] for rows
     * r in [0, rows) of x from xOff; mean[statOff + r] and rstd[statOff + r] receive the statistics.
     */
    public static void forward(float[] x, int xOff, int rows, int dim, float eps, float[] mod, int shiftOff, int scaleOff,
                               float[] out, int outOff, float[] mean, float[] rstd, int statOff) {
        RowTasks.forEach(rows, dim, r -> {
            int o = xOff + r * dim, w = outOff + r * dim;
            double mu = 0;
            for (int i = 0; i < dim; i++) mu += x[o + i];
            mu /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) {
                double t = x[o + i] - mu;
                var += t * t;
            }
            var /= dim;
            float inv = (float) (1.0 / Math.sqrt(var + eps)), m = (float) mu;
            mean[statOff + r] = m;
            rstd[statOff + r] = inv;
            for (int i = 0; i < dim; i++) out[w + i] = (x[o + i] - m) * inv * (1f + mod[scaleOff + i]) + mod[shiftOff + i];
        });
    }

    /**
     * Given dOut, adds the input gradient into dx (the residual stream's gradient, which already holds
     * the skip path) and the modulation gradients into dmod: dShift += Σ_r dOut, dScale += Σ_r dOut·x̂.
     * With dx̂ = dOut·(1 + scale): dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)).
     */
    public static void backward(float[] x, int xOff, int rows, int dim, float[] mod, int scaleOff,
                                float[] mean, float[] rstd, int statOff, float[] dout, int doutOff,
                                float[] dx, int dxOff, float[] dmod, int dShiftOff, int dScaleOff) {
        RowTasks.forEach(rows, dim, r -> {
            int o = xOff + r * dim, g = doutOff + r * dim, d = dxOff + r * dim;
            float m = mean[statOff + r], inv = rstd[statOff + r];
            double sumG = 0, sumGx = 0;
            for (int i = 0; i < dim; i++) {
                double gh = (double) dout[g + i] * (1f + mod[scaleOff + i]);
                sumG += gh;
                sumGx += gh * ((x[o + i] - m) * inv);
            }
            double meanG = sumG / dim, meanGx = sumGx / dim;
            for (int i = 0; i < dim; i++) {
                double gh = (double) dout[g + i] * (1f + mod[scaleOff + i]);
                double xh = (x[o + i] - m) * inv;
                dx[d + i] += (float) (inv * (gh - meanG - xh * meanGx));
            }
        });
        double[] sums = ColumnSums.of(rows, 2 * dim, (r, acc) -> {
            int o = xOff + r * dim, g = doutOff + r * dim;
            float m = mean[statOff + r], inv = rstd[statOff + r];
            for (int i = 0; i < dim; i++) {
                acc[i] += dout[g + i];
                acc[dim + i] += (double) dout[g + i] * ((x[o + i] - m) * inv);
            }
        });
        ColumnSums.addInto(sums, 0, dmod, dShiftOff, dim);
        ColumnSums.addInto(sums, dim, dmod, dScaleOff, dim);
    }
}
