package org.ovis4j.train.ops;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import java.util.function.ToDoubleFunction;

/** Random data, float/double conversion, scaled comparisons and central differences for the VAE op tests. */
public final class VaeOpsTesting {
    private VaeOpsTesting() {}

    public static float[] gaussian(Random r, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * std);
        return a;
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    public static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    /**
     * Asserts max|actual − expected| ≤ tol · max|expected| (expected not all zero) and returns the
     * relative error reached.
     */
    public static double assertClose(String what, double[] expected, float[] actual, double tol) {
        if (expected.length > actual.length) fail(what + ": " + actual.length + " values, expected " + expected.length);
        double scale = maxAbs(expected), worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            if (!Float.isFinite(actual[i])) fail(what + ": " + actual[i] + " at " + i);
            double d = Math.abs(actual[i] - expected[i]);
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        if (scale == 0) fail(what + ": reference is all zero, the test would prove nothing");
        if (worst > tol * scale)
            fail(String.format("%s: element %d is %.8g, expected %.8g (diff %.3g = %.3g of scale %.3g; tolerance %.1g)",
                    what, at, actual[at], expected[at], worst, worst / scale, scale, tol));
        return worst / scale;
    }

    /**
     * d f / d x[i] by central differences in double for a few indices (all when there are at most
     * {@code samples}), compared with {@code analytic} at tol of the largest analytic gradient.
     * f must be smooth near x (steps h = 1e-4 · max(1, |x_i|) and h/2, extrapolated).
     */
    public static double assertFiniteDifferences(String what, double[] x, ToDoubleFunction<double[]> f, float[] analytic,
                                                 int samples, Random r, double tol) {
        double scale = 0;
        for (float g : analytic) scale = Math.max(scale, Math.abs(g));
        if (scale == 0) fail(what + ": analytic gradient is all zero, the test would prove nothing");
        double worst = 0;
        int n = x.length;
        for (int s = 0; s < Math.min(samples, n); s++) {
            int i = n <= samples ? s : r.nextInt(n);
            double keep = x[i], h = 1e-4 * Math.max(1, Math.abs(keep));
            // Richardson extrapolation of two central differences: truncation error O(h⁴), so that
            // strongly curved spots (a GroupNorm over two values has a small σ) are still exact.
            double fd = (4 * central(x, i, h / 2, f) - central(x, i, h, f)) / 3;
            double d = Math.abs(fd - analytic[i]);
            worst = Math.max(worst, d / scale);
            if (d > tol * scale)
                fail(String.format("%s[%d]: analytic %.8g, finite difference %.8g (diff %.3g of scale %.3g; tolerance %.1g)",
                        what, i, analytic[i], fd, d / scale, scale, tol));
        }
        return worst;
    }

    private static double central(double[] x, int i, double h, ToDoubleFunction<double[]> f) {
        double keep = x[i];
        x[i] = keep + h;
        double up = f.applyAsDouble(x);
        x[i] = keep - h;
        double down = f.applyAsDouble(x);
        x[i] = keep;
        return (up - down) / (2 * h);
    }

    /** Σ a·g in double: a scalar loss whose gradient with respect to a is g. */
    public static double dot(double[] a, double[] g) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * g[i];
        return s;
    }
}
