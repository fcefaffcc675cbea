package org.ovis4j.train.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import java.util.function.ToDoubleFunction;

/**
 * What the kernel tests of backward passes share: random data, a float32 kernel's result against a
 * naive double-precision loop, and central finite differences of a double-precision forward.
 *
 * <p>Each test turns an operation into a scalar loss L = Σ out·R with a fixed random R, so that
 * dL/dout = R is what the backward kernel receives, and the finite differences of L are the exact
 * gradients: in double, with a step h = 1e-6·max(1, |x|), the truncation error ~h²·L''' and the rounding
 * ~1e-16·|L|/h (|L| ≤ ~100 here) stay around 1e-8 or below, far under the float32 error of the kernels checked.
 */
public final class GradCheck {
    private GradCheck() {}

    /** The sizes every kernel test covers: 1, 7, 33, 129 (odd, below and above the vector and tile widths). */
    public static final int[] SIZES = {1, 7, 33, 129};

    public static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    public static double dot(double[] a, float[] r) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * r[i];
        return s;
    }

    /**
     * Central differences d loss / d x[i] for up to {@code samples} indices of x (all of them when x is
     * small, else evenly spread ones), x being changed in place and restored. Entries not sampled are NaN.
     */
    public static double[] numeric(double[] x, ToDoubleFunction<double[]> loss, int samples) {
        double[] g = new double[x.length];
        java.util.Arrays.fill(g, Double.NaN);
        int step = Math.max(1, x.length / samples);
        for (int i = 0; i < x.length; i += step) {
            double keep = x[i], h = 1e-6 * Math.max(1, Math.abs(keep));
            x[i] = keep + h;
            double up = loss.applyAsDouble(x);
            x[i] = keep - h;
            double down = loss.applyAsDouble(x);
            x[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    /**
     * Asserts max|actual − expected| ≤ tol · max|expected| over the entries of expected that are not NaN
     * and returns the relative error reached.
     */
    public static double assertClose(String what, double[] expected, float[] actual, double tol) {
        return assertClose(what, expected, actual, tol, 1e-30);
    }

    /**
     * As above with the scale at least {@code floor}: for results that are differences of larger terms
     * (a norm's input gradient), whose float32 error is relative to the terms, not to the difference.
     */
    public static double assertClose(String what, double[] expected, float[] actual, double tol, double floor) {
        if (expected.length != actual.length) fail(what + ": " + actual.length + " values, expected " + expected.length);
        double scale = 0, worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++)
            if (!Double.isNaN(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
        scale = Math.max(scale, floor);
        for (int i = 0; i < expected.length; i++) {
            if (Double.isNaN(expected[i])) continue;
            if (!Float.isFinite(actual[i])) fail(what + ": " + actual[i] + " at " + i);
            double d = Math.abs(actual[i] - expected[i]);
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        if (worst > tol * scale)
            fail(String.format("%s: element %d is %.8g, expected %.8g (diff %.3g of scale %.3g, tolerance %.1g)",
                    what, at, actual[at], expected[at], worst / scale, scale, tol));
        return worst / scale;
    }
}
