package org.ovis4j.data.filter;

import java.awt.image.BufferedImage;

/**
 * The DCT perceptual hash: shrink to 32x32 grey, take the 2-D DCT, and set one bit per coefficient
 * of the lowest 8x8 frequencies for "above the median". Images that look alike (same layout and
 * text, slightly different colours or noise) land a few bits apart; unrelated ones about 32 apart.
 */
public final class PerceptualHash {
    private PerceptualHash() {}

    private static final int N = 32, K = 8;
    private static final double[][] COS = new double[K][N];

    static {
        for (int u = 0; u < K; u++) for (int x = 0; x < N; x++) COS[u][x] = Math.cos((2 * x + 1) * u * Math.PI / (2 * N));
    }

    public static long of(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        double[][] g = new double[N][N];
        // Area average into 32x32 cells: cheap and free of aliasing from thin text strokes.
        double[][] count = new double[N][N];
        for (int y = 0; y < h; y++) {
            int cy = y * N / h;
            for (int x = 0; x < w; x++) {
                int c = img.getRGB(x, y);
                g[cy][x * N / w] += 0.299 * ((c >> 16) & 255) + 0.587 * ((c >> 8) & 255) + 0.114 * (c & 255);
                count[cy][x * N / w]++;
            }
        }
        for (int y = 0; y < N; y++) for (int x = 0; x < N; x++) g[y][x] /= Math.max(1, count[y][x]);
        double[][] rows = new double[N][K];
        for (int y = 0; y < N; y++) for (int u = 0; u < K; u++) {
            double s = 0;
            for (int x = 0; x < N; x++) s += g[y][x] * COS[u][x];
            rows[y][u] = s;
        }
        double[] coef = new double[K * K];
        for (int v = 0; v < K; v++) for (int u = 0; u < K; u++) {
            double s = 0;
            for (int y = 0; y < N; y++) s += rows[y][u] * COS[v][y];
            coef[v * K + u] = s;
        }
        // The median leaves out the DC term, which only says how bright the image is overall.
        double[] sorted = java.util.Arrays.copyOfRange(coef, 1, coef.length);
        java.util.Arrays.sort(sorted);
        double median = (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        long bits = 0;
        for (int i = 0; i < K * K; i++) if (coef[i] > median) bits |= 1L << i;
        return bits;
    }

    public static int distance(long a, long b) {
        return Long.bitCount(a ^ b);
    }
}
