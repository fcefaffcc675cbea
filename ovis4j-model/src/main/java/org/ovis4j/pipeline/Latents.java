package org.ovis4j.pipeline;

/**
 * Packing of latents [C, h, w] into 2x2 patch tokens [(h/2)(w/2), 4C] and back (spec 3.1): token
 * n = row·(w/2) + col, feature f = ch·4 + dy·2 + dx.
 */
public final class Latents {
    private Latents() {}

    public static float[] pack(float[] z, int channels, int h, int w) {
        int gh = h / 2, gw = w / 2, f = channels * 4;
        float[] out = new float[gh * gw * f];
        for (int ch = 0; ch < channels; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    out[((y / 2) * gw + x / 2) * f + ch * 4 + (y % 2) * 2 + x % 2] = z[(ch * h + y) * w + x];
        return out;
    }

    public static float[] unpack(float[] tokens, int channels, int h, int w) {
        int gw = w / 2, f = channels * 4;
        float[] z = new float[channels * h * w];
        for (int ch = 0; ch < channels; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    z[(ch * h + y) * w + x] = tokens[((y / 2) * gw + x / 2) * f + ch * 4 + (y % 2) * 2 + x % 2];
        return z;
    }
}
