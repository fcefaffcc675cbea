package org.ovis4j.eval;

import java.awt.image.BufferedImage;

/**
 * A polarity-free binarisation for OCR: a pixel is ink when its colour is far from the mean colour
 * of its neighbourhood, whatever the direction. Designs mix dark-on-light and light-on-dark text and
 * put text on coloured boards; Tesseract's own global threshold then loses whole lines, while this
 * map draws every stroke black on white. Colour distance (not grey) also keeps text that differs
 * from its ground in hue more than in brightness.
 */
public final class InkMap {
    private InkMap() {}

    /**
     * @param radius    half-size of the neighbourhood box in pixels (a little more than a stroke's
     *                  width, so the mean is mostly ground)
     * @param threshold RGB distance (0..441) above which a pixel is ink
     * @return one byte per pixel: 0 ink, 255 ground
     */
    public static byte[] of(BufferedImage img, int radius, double threshold) {
        int w = img.getWidth(), h = img.getHeight();
        int[] px = img.getRGB(0, 0, w, h, null, 0, w);
        boolean[] ink = new boolean[w * h];
        // Two passes: the second estimates the ground from pixels the first did not call ink, so
        // the inside of a thick stroke is compared with the ground and not with other ink.
        for (int pass = 0; pass < 2; pass++) {
            long[][] sums = new long[4][(w + 1) * (h + 1)];
            for (int y = 0; y < h; y++) {
                long r = 0, g = 0, b = 0, n = 0;
                for (int x = 0; x < w; x++) {
                    int c = px[y * w + x];
                    if (!ink[y * w + x]) {
                        r += (c >> 16) & 255; g += (c >> 8) & 255; b += c & 255; n++;
                    }
                    int i = (y + 1) * (w + 1) + x + 1, up = y * (w + 1) + x + 1;
                    sums[0][i] = sums[0][up] + r;
                    sums[1][i] = sums[1][up] + g;
                    sums[2][i] = sums[2][up] + b;
                    sums[3][i] = sums[3][up] + n;
                }
            }
            boolean[] next = new boolean[w * h];
            double t2 = threshold * threshold;
            for (int y = 0; y < h; y++) {
                int y0 = Math.max(0, y - radius), y1 = Math.min(h, y + radius + 1);
                for (int x = 0; x < w; x++) {
                    int x0 = Math.max(0, x - radius), x1 = Math.min(w, x + radius + 1);
                    double n = box(sums[3], w, x0, y0, x1, y1);
                    if (n < 1) { next[y * w + x] = ink[y * w + x]; continue; }
                    int c = px[y * w + x];
                    double d2 = 0;
                    for (int k = 0; k < 3; k++) {
                        double mean = box(sums[k], w, x0, y0, x1, y1) / n;
                        double v = (c >> (16 - 8 * k)) & 255;
                        d2 += (v - mean) * (v - mean);
                    }
                    next[y * w + x] = d2 > t2;
                }
            }
            ink = next;
        }
        byte[] out = new byte[w * h];
        for (int i = 0; i < out.length; i++) out[i] = ink[i] ? 0 : (byte) 255;
        return out;
    }

    private static double box(long[] s, int w, int x0, int y0, int x1, int y1) {
        return s[y1 * (w + 1) + x1] - s[y0 * (w + 1) + x1] - s[y1 * (w + 1) + x0] + s[y0 * (w + 1) + x0];
    }
}
