package org.ovis4j.core.kernel;

import org.ovis4j.core.parallel.Parallel;

/** LayerNorm (with the AdaLN modulation fused in), RMSNorm and GroupNorm; statistics in double. */
public final class Norms {
    private Norms() {}

    /**
     * out[r] = LN(x[r])·(1 + scale) + shift over rows of width dim, LayerNorm without affine.
     * {@code shift}/{@code scale} are read at offsets shiftOff/scaleOff (chunks of one modulation vector);
     * pass scale == null for plain LayerNorm.
     */
    public static void layerNormModulate(float[] x, int rows, int dim, float eps,
                                         float[] shift, int shiftOff, float[] scale, int scaleOff, float[] out) {
        layerNormModulate(x, 0, rows, dim, eps, shift, shiftOff, scale, scaleOff, out, 0);
    }

    /** As above for rows starting at element xOff of x, written from element outOff of out. */
    public static void layerNormModulate(float[] x, int xOff, int rows, int dim, float eps,
                                         float[] shift, int shiftOff, float[] scale, int scaleOff, float[] out, int outOff) {
        Parallel.forEach(rows, r -> {
            int o = xOff + r * dim, w = outOff + r * dim;
            double mean = 0;
            for (int i = 0; i < dim; i++) mean += x[o + i];
            mean /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) {
                double t = x[o + i] - mean;
                var += t * t;
            }
            var /= dim;
            float inv = (float) (1.0 / Math.sqrt(var + eps));
            float m = (float) mean;
            if (scale == null) {
                for (int i = 0; i < dim; i++) out[w + i] = (x[o + i] - m) * inv;
            } else {
                for (int i = 0; i < dim; i++)
                    out[w + i] = (x[o + i] - m) * inv * (1f + scale[scaleOff + i]) + shift[shiftOff + i];
            }
        });
    }

    /** out[r] = x[r] / sqrt(mean(x[r]²) + eps) · weight, rows of width dim (in place allowed). */
    public static void rmsNorm(float[] x, int rows, int dim, float[] weight, float eps, float[] out) {
        rmsNorm(x, 0, rows, dim, weight, eps, out);
    }

    /** In place on rows of width dim starting at element {@code off} of x (and of out). */
    public static void rmsNorm(float[] x, int off, int rows, int dim, float[] weight, float eps, float[] out) {
        Parallel.forEach(rows, r -> rmsRow(x, off + r * dim, dim, weight, eps, out));
    }

    static void rmsRow(float[] x, int o, int dim, float[] weight, float eps, float[] out) {
        double ss = 0;
        for (int i = 0; i < dim; i++) ss += (double) x[o + i] * x[o + i];
        float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
        for (int i = 0; i < dim; i++) out[o + i] = x[o + i] * inv * weight[i];
    }

    /**
     * GroupNorm over channels-last data x [pixels, channels]: each group of channels/groups channels is
     * normalised over all pixels and its channels, then scaled and shifted per channel.
     */
    public static void groupNorm(float[] x, int pixels, int channels, int groups, float[] weight, float[] bias,
                                 float eps, float[] out) {
        int cg = channels / groups;
        double[] mean = new double[groups], inv = new double[groups];
        Parallel.forEach(groups, g -> {
            double s = 0;
            int c0 = g * cg;
            for (int p = 0; p < pixels; p++) for (int c = 0; c < cg; c++) s += x[p * channels + c0 + c];
            double n = (double) pixels * cg;
            double m = s / n, var = 0;
            for (int p = 0; p < pixels; p++)
                for (int c = 0; c < cg; c++) {
                    double t = x[p * channels + c0 + c] - m;
                    var += t * t;
                }
            mean[g] = m;
            inv[g] = 1.0 / Math.sqrt(var / n + eps);
        });
        float[] a = new float[channels], b = new float[channels];
        for (int c = 0; c < channels; c++) {
            int g = c / cg;
            a[c] = (float) (inv[g] * weight[c]);
            b[c] = (float) (bias[c] - mean[g] * inv[g] * weight[c]);
        }
        int chunk = 256;
        Parallel.forEach((pixels + chunk - 1) / chunk, t -> {
            for (int p = t * chunk, e = Math.min(pixels, p + chunk); p < e; p++)
                for (int c = 0, o = p * channels; c < channels; c++, o++) out[o] = x[o] * a[c] + b[c];
        });
    }
}
