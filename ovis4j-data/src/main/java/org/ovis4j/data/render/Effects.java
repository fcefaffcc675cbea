package org.ovis4j.data.render;

/** Whole-image pixel effects: grain and blur. Plain loops over packed RGB ints for reproducibility. */
public final class Effects {
    private Effects() {}

    /** Adds zero-mean Gaussian noise of the given standard deviation (in 0..255 units) per channel. */
    public static void addGrain(int[] px, Rng rng, double sigma) {
        for (int i = 0; i < px.length; i++) {
            int c = px[i];
            int r = (c >> 16) & 255, g = (c >> 8) & 255, b = c & 255;
            // One luminance-like offset plus a little per-channel: film grain is mostly achromatic.
            double common = rng.gaussian() * sigma;
            px[i] = Colors.rgb((int) Math.round(r + common + rng.gaussian() * sigma * 0.3),
                    (int) Math.round(g + common + rng.gaussian() * sigma * 0.3),
                    (int) Math.round(b + common + rng.gaussian() * sigma * 0.3));
        }
    }

    /** Separable box blur repeated three times, which approximates a Gaussian of the given sigma. */
    public static int[] blur(int[] px, int w, int h, double sigma) {
        int radius = Math.max(1, (int) Math.round(Math.sqrt(12 * sigma * sigma / 3 + 1) / 2));
        int[] a = px.clone(), t = new int[px.length];
        for (int pass = 0; pass < 3; pass++) {
            boxH(a, t, w, h, radius);
            boxV(t, a, w, h, radius);
        }
        return a;
    }

    private static void boxH(int[] in, int[] out, int w, int h, int r) {
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int sr = 0, sg = 0, sb = 0, n = 0;
                for (int k = -r; k <= r; k++) {
                    int xx = Math.max(0, Math.min(w - 1, x + k));
                    int c = in[y * w + xx];
                    sr += (c >> 16) & 255; sg += (c >> 8) & 255; sb += c & 255; n++;
                }
                out[y * w + x] = Colors.rgb(sr / n, sg / n, sb / n);
            }
        }
    }

    private static void boxV(int[] in, int[] out, int w, int h, int r) {
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int sr = 0, sg = 0, sb = 0, n = 0;
                for (int k = -r; k <= r; k++) {
                    int yy = Math.max(0, Math.min(h - 1, y + k));
                    int c = in[yy * w + x];
                    sr += (c >> 16) & 255; sg += (c >> 8) & 255; sb += c & 255; n++;
                }
                out[y * w + x] = Colors.rgb(sr / n, sg / n, sb / n);
            }
        }
    }
}
