package org.ovis4j.train.data;

import org.ovis4j.core.parallel.Parallel;

/**
 * Antialiased bilinear resizing: each output pixel is a weighted mean of the input pixels under a
 * triangle (tent) filter centred on it, one pass per axis. The tent has a half-width of one input
 * pixel when enlarging, which is plain bilinear interpolation with half-pixel centres; when shrinking
 * by a factor s it is widened to s input pixels, so every input pixel contributes and thin strokes
 * (the glyphs of typography data are one to three pixels wide) are averaged instead of skipped or
 * aliased into moiré. This is the filter PIL's {@code Image.resize(BILINEAR)} applies, which is what
 * torchvision's {@code Resize} gives the diffusers training scripts for PIL images. Weights are
 * normalised per output pixel, so at the borders the filter renormalises over the pixels that exist.
 * Computed in double, rounded once to float, never to 8 bits between the passes.
 */
final class Resampler {
    private Resampler() {}

    /** Input taps of every output index along one axis: {@code first[o]} and {@code weights[o]}. */
    private record Taps(int[] first, double[][] weights) {}

    static Taps taps(int in, int out) {
        double scale = (double) in / out, support = Math.max(scale, 1.0);
        int[] first = new int[out];
        double[][] weights = new double[out][];
        for (int o = 0; o < out; o++) {
            double centre = (o + 0.5) * scale;
            int lo = Math.max(0, (int) Math.floor(centre - support)), hi = Math.min(in, (int) Math.ceil(centre + support));
            double[] w = new double[hi - lo];
            double sum = 0;
            for (int i = lo; i < hi; i++) {
                double t = Math.abs((i + 0.5 - centre) / support);
                sum += w[i - lo] = Math.max(0, 1 - t);
            }
            for (int k = 0; k < w.length; k++) w[k] /= sum;
            first[o] = lo;
            weights[o] = w;
        }
        return new Taps(first, weights);
    }

    /** planes [c, h, w] → [c, outH, outW]. */
    static float[] resize(float[] planes, int c, int h, int w, int outH, int outW) {
        if (h == outH && w == outW) return planes.clone();
        Taps tx = taps(w, outW), ty = taps(h, outH);
        double[] wide = new double[c * h * outW]; // after the horizontal pass
        Parallel.forEach(c * h, row -> {
            int src = row * w, dst = row * outW;
            for (int o = 0; o < outW; o++) {
                double[] wt = tx.weights()[o];
                int f = src + tx.first()[o];
                double s = 0;
                for (int k = 0; k < wt.length; k++) s += wt[k] * planes[f + k];
                wide[dst + o] = s;
            }
        });
        float[] out = new float[c * outH * outW];
        Parallel.forEach(c * outH, row -> {
            int ch = row / outH, o = row % outH;
            double[] wt = ty.weights()[o];
            int base = (ch * h + ty.first()[o]) * outW, dst = row * outW;
            for (int x = 0; x < outW; x++) {
                double s = 0;
                for (int k = 0; k < wt.length; k++) s += wt[k] * wide[base + k * outW + x];
                out[dst + x] = (float) s;
            }
        });
        return out;
    }
}
