package org.ovis4j.vae;

import org.ovis4j.core.parallel.Parallel;

/**
 * Decodes latents [h, w] tile by tile and assembles the image: tiles start every
 * {@code stride = tile − overlap} latents; each decoded tile is blended into the one above and the
 * one to its left over the overlap's pixels (weight rising linearly from 0 to 1 across it), then its
 * first {@code stride·scale} rows and columns are kept (all of the last tile's). Only one row of
 * decoded tiles is held at a time.
 */
final class TiledDecode {
    /** Decodes the latents of rows [y0, y0 + th) and columns [x0, x0 + tw) into a channels-last image. */
    interface TileDecoder {
        FeatureMap decode(int y0, int x0, int th, int tw);
    }

    private TiledDecode() {}

    /** The image [scale·h, scale·w, channels] channels-last. */
    static FeatureMap run(int h, int w, int scale, int channels, VaeTiling tiling, TileDecoder decoder) {
        int stride = tiling.stride(), blend = tiling.overlap() * scale;
        int rows = tiles(h, tiling), cols = tiles(w, tiling);
        int outH = h * scale, outW = w * scale;
        float[] out = new float[outH * outW * channels];
        FeatureMap[] above = new FeatureMap[cols];
        for (int r = 0; r < rows; r++) {
            FeatureMap[] row = new FeatureMap[cols];
            for (int c = 0; c < cols; c++) {
                int y0 = r * stride, x0 = c * stride;
                FeatureMap t = decoder.decode(y0, x0, Math.min(tiling.tile(), h - y0), Math.min(tiling.tile(), w - x0));
                if (r > 0) blendRows(above[c], t, blend);
                if (c > 0) blendColumns(row[c - 1], t, blend);
                row[c] = t;
                int keepH = r == rows - 1 ? t.h() : Math.min(t.h(), stride * scale);
                int keepW = c == cols - 1 ? t.w() : Math.min(t.w(), stride * scale);
                place(t, keepH, keepW, out, y0 * scale, x0 * scale, outW);
            }
            above = row;
        }
        return new FeatureMap(out, outH, outW, channels);
    }

    /** Tiles along a side of n latents: starts at 0, stride, ... while the previous tile ends before n. */
    static int tiles(int n, VaeTiling tiling) {
        if (n <= tiling.tile()) return 1;
        return (n - tiling.tile() + tiling.stride() - 1) / tiling.stride() + 1;
    }

    /** The first rows of b fade in over the last rows of a (the tile above). */
    private static void blendRows(FeatureMap a, FeatureMap b, int extent) {
        int e = Math.min(extent, Math.min(a.h(), b.h()));
        int wc = Math.min(a.w(), b.w()) * b.c();
        Parallel.forEach(e, y -> {
            float t = (float) y / e;
            int ao = (a.h() - e + y) * a.w() * a.c(), bo = y * b.w() * b.c();
            for (int i = 0; i < wc; i++) b.data()[bo + i] = a.data()[ao + i] * (1 - t) + b.data()[bo + i] * t;
        });
    }

    /** The first columns of b fade in over the last columns of a (the tile to the left). */
    private static void blendColumns(FeatureMap a, FeatureMap b, int extent) {
        int e = Math.min(extent, Math.min(a.w(), b.w()));
        int c = b.c();
        Parallel.forEach(Math.min(a.h(), b.h()), y -> {
            for (int x = 0; x < e; x++) {
                float t = (float) x / e;
                int ao = (y * a.w() + a.w() - e + x) * c, bo = (y * b.w() + x) * c;
                for (int k = 0; k < c; k++) b.data()[bo + k] = a.data()[ao + k] * (1 - t) + b.data()[bo + k] * t;
            }
        });
    }

    private static void place(FeatureMap t, int keepH, int keepW, float[] out, int oy, int ox, int outW) {
        int c = t.c();
        for (int y = 0; y < keepH; y++) System.arraycopy(t.data(), y * t.w() * c, out, ((oy + y) * outW + ox) * c, keepW * c);
    }
}
