package org.ovis4j.train.vae;

import org.ovis4j.core.parallel.Parallel;

/** Batched layout changes between PyTorch's [B, C, H, W] and the channels-last [B, H, W, C] the VAE computes in. */
final class ChannelsLast {
    private ChannelsLast() {}

    /** dst [B, H, W, C] = src [B, C, H, W]. */
    static void fromNchw(float[] src, int batch, int c, int h, int w, float[] dst) {
        int hw = h * w;
        Parallel.forEach(batch * h, line -> {
            int b = line / h, y = line % h;
            for (int x = 0; x < w; x++) {
                int p = y * w + x, o = (b * hw + p) * c;
                for (int ch = 0; ch < c; ch++) dst[o + ch] = src[(b * c + ch) * hw + p];
            }
        });
    }

    /** A new [B, C, H, W] copy of src [B, H, W, C]. */
    static float[] toNchw(float[] src, int batch, int h, int w, int c) {
        float[] dst = new float[batch * c * h * w];
        int hw = h * w;
        Parallel.forEach(batch * h, line -> {
            int b = line / h, y = line % h;
            for (int x = 0; x < w; x++) {
                int p = y * w + x, o = (b * hw + p) * c;
                for (int ch = 0; ch < c; ch++) dst[(b * c + ch) * hw + p] = src[o + ch];
            }
        });
        return dst;
    }
}
