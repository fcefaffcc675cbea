package org.ovis4j.data.render;

/**
 * A plane projective map, for the perspective ("keystone") effect. Java2D only draws affine
 * transforms, so the engine renders flat and then resamples the finished image through this map.
 */
public final class Homography {
    private final double[] m; // row-major 3x3 with m[8] = 1

    private Homography(double[] m) {
        this.m = m;
    }

    /** The map sending src[i] to dst[i] for four points given as x0,y0,...,x3,y3. */
    public static Homography fromPoints(double[] src, double[] dst) {
        double[][] a = new double[8][9];
        for (int i = 0; i < 4; i++) {
            double x = src[2 * i], y = src[2 * i + 1], u = dst[2 * i], v = dst[2 * i + 1];
            a[2 * i] = new double[] {x, y, 1, 0, 0, 0, -u * x, -u * y, u};
            a[2 * i + 1] = new double[] {0, 0, 0, x, y, 1, -v * x, -v * y, v};
        }
        // Gaussian elimination with partial pivoting on the 8x8 system.
        for (int col = 0; col < 8; col++) {
            int piv = col;
            for (int r = col + 1; r < 8; r++) if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) piv = r;
            double[] t = a[col]; a[col] = a[piv]; a[piv] = t;
            if (Math.abs(a[col][col]) < 1e-12) throw new IllegalArgumentException("degenerate quad");
            for (int r = 0; r < 8; r++) {
                if (r == col) continue;
                double f = a[r][col] / a[col][col];
                for (int k = col; k < 9; k++) a[r][k] -= f * a[col][k];
            }
        }
        double[] h = new double[9];
        for (int i = 0; i < 8; i++) h[i] = a[i][8] / a[i][i];
        h[8] = 1;
        return new Homography(h);
    }

    public double[] apply(double x, double y) {
        double w = m[6] * x + m[7] * y + m[8];
        return new double[] {(m[0] * x + m[1] * y + m[2]) / w, (m[3] * x + m[4] * y + m[5]) / w};
    }

    /**
     * Output pixel (x, y) takes the bilinear sample of {@code src} at inverse(x, y); {@code inverse}
     * maps output to source. Samples outside the source clamp to its edge.
     */
    public static int[] warp(int[] src, int w, int h, Homography inverse) {
        int[] out = new int[src.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double[] s = inverse.apply(x + 0.5, y + 0.5);
                out[y * w + x] = bilinear(src, w, h, s[0] - 0.5, s[1] - 0.5);
            }
        }
        return out;
    }

    private static int bilinear(int[] px, int w, int h, double x, double y) {
        x = Math.max(0, Math.min(w - 1, x));
        y = Math.max(0, Math.min(h - 1, y));
        int x0 = (int) x, y0 = (int) y, x1 = Math.min(w - 1, x0 + 1), y1 = Math.min(h - 1, y0 + 1);
        double fx = x - x0, fy = y - y0;
        int c00 = px[y0 * w + x0], c10 = px[y0 * w + x1], c01 = px[y1 * w + x0], c11 = px[y1 * w + x1];
        int out = 0;
        for (int shift = 16; shift >= 0; shift -= 8) {
            double top = ((c00 >> shift) & 255) * (1 - fx) + ((c10 >> shift) & 255) * fx;
            double bot = ((c01 >> shift) & 255) * (1 - fx) + ((c11 >> shift) & 255) * fx;
            out |= ((int) Math.round(top * (1 - fy) + bot * fy) & 255) << shift;
        }
        return out;
    }
}
