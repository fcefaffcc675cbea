package org.ovis4j.vae;

import org.ovis4j.core.OvisException;
import org.ovis4j.core.parallel.Parallel;

/**
 * A channels-last activation map [h, w, c] (pixel-major, channel fastest), the layout the VAE runs
 * in because the convolution kernel is HWC. The public API converts from and to PyTorch's CHW.
 */
public record FeatureMap(float[] data, int h, int w, int c) {
    public FeatureMap {
        if (h <= 0 || w <= 0 || c <= 0 || data.length != (long) h * w * c)
            throw new OvisException("feature map: " + data.length + " values for " + h + " x " + w + " x " + c);
    }

    public int pixels() { return h * w; }

    /** Values held: h·w·c. */
    public int size() { return data.length; }

    /** A channels-last copy of chw [c, h, w]. */
    public static FeatureMap fromChw(float[] chw, int c, int h, int w) {
        if (chw.length != (long) c * h * w)
            throw new OvisException("expected " + c + " x " + h + " x " + w + " = " + (long) c * h * w + " values, got " + chw.length);
        float[] hwc = new float[chw.length];
        int hw = h * w;
        Parallel.forEach(h, y -> {
            for (int x = 0; x < w; x++) {
                int p = y * w + x, o = p * c;
                for (int ch = 0; ch < c; ch++) hwc[o + ch] = chw[ch * hw + p];
            }
        });
        return new FeatureMap(hwc, h, w, c);
    }

    /** This map as CHW [c, h, w]. */
    public float[] toChw() {
        float[] chw = new float[data.length];
        int hw = h * w;
        Parallel.forEach(h, y -> {
            for (int x = 0; x < w; x++) {
                int p = y * w + x, o = p * c;
                for (int ch = 0; ch < c; ch++) chw[ch * hw + p] = data[o + ch];
            }
        });
        return chw;
    }

    /** Nearest-neighbour ×2 into a map from the workspace: every pixel becomes a 2×2 block. */
    FeatureMap upsampleNearest2x(Workspace ws) {
        int h2 = 2 * h, w2 = 2 * w;
        float[] out = ws.take(Math.multiplyExact(data.length, 4));
        Parallel.forEach(h, y -> {
            int row = (2 * y) * w2 * c;
            for (int x = 0; x < w; x++) {
                int src = (y * w + x) * c, dst = row + 2 * x * c;
                System.arraycopy(data, src, out, dst, c);
                System.arraycopy(data, src, out, dst + c, c);
            }
            System.arraycopy(out, row, out, row + w2 * c, w2 * c);
        });
        return new FeatureMap(out, h2, w2, c);
    }

    /** data += other.data element-wise (same shape). */
    void addInPlace(float[] other) {
        if (other.length < data.length) throw new IllegalArgumentException("addInPlace: sizes differ");
        int n = data.length, chunk = 1 << 16;
        Parallel.forEach((n + chunk - 1) / chunk, t -> {
            for (int i = t * chunk, e = Math.min(n, i + chunk); i < e; i++) data[i] += other[i];
        });
    }
}
