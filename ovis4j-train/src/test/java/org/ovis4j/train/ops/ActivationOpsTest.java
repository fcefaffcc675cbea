package org.ovis4j.train.ops;

import static org.ovis4j.train.testing.GradCheck.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** SiLU, SwiGLU and the gated residual update. */
class ActivationOpsTest {
    /**
     * The shared sigmoid is accurate to about 2 ulp (VectorMath.expNonPositive); products of a few
     * float32 values: 1e-6 of the largest value.
     */
    private static final double TOL = 1e-6;

    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    /** Inputs spread over ±20 so that both branches of the sigmoid and its saturation are met. */
    static float[] wide(Random rnd, int n) {
        float[] x = random(rnd, n);
        for (int i = 0; i < n; i++) x[i] *= 1 + 6 * (i % 3);
        return x;
    }

    @Test
    void siluMatchesNaiveLoopsAndFiniteDifferences() {
        Random rnd = new Random(61);
        for (int n : new int[] {1, 7, 33, 129, 1000}) {
            float[] x = wide(rnd, n), r = random(rnd, n), y = new float[n + 2], dx = new float[n];
            double[] xd = toDouble(x);
            SiluOp.forward(x, 0, n, y, 2);
            double[] e = new double[n];
            for (int i = 0; i < n; i++) e[i] = silu(xd[i]);
            assertClose("silu " + n, e, java.util.Arrays.copyOfRange(y, 2, n + 2), TOL);
            SiluOp.backward(x, 0, n, r, 0, dx, 0);
            assertClose("silu' fd " + n, numeric(xd, v -> {
                double s = 0;
                for (int i = 0; i < n; i++) s += silu(v[i]) * r[i];
                return s;
            }, 200), dx, TOL);
        }
    }

    static double[] swiglu(double[] h, int rows, int hidden) {
        double[] m = new double[rows * hidden];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < hidden; i++) m[r * hidden + i] = h[r * 2 * hidden + i] * silu(h[r * 2 * hidden + hidden + i]);
        return m;
    }

    @Test
    void swigluMatchesNaiveLoopsAndFiniteDifferences() {
        Random rnd = new Random(62);
        for (int rows : SIZES)
            for (int hidden : SIZES) {
                String at = rows + "x" + hidden;
                float[] h = wide(rnd, rows * 2 * hidden), r = random(rnd, rows * hidden);
                double[] hd = toDouble(h);
                // output rows of stride hidden + 3 from column 2 (the single block's [attention | MLP] buffer)
                int ldo = hidden + 3;
                float[] m = new float[rows * ldo];
                SwiGluOp.forward(h, 0, 2 * hidden, rows, hidden, m, 2, ldo);
                float[] mc = new float[rows * hidden];
                for (int i = 0; i < rows; i++) System.arraycopy(m, 2 + i * ldo, mc, i * hidden, hidden);
                assertClose("m " + at, swiglu(hd, rows, hidden), mc, TOL);

                float[] rs = new float[rows * ldo];
                for (int i = 0; i < rows; i++) System.arraycopy(r, i * hidden, rs, 2 + i * ldo, hidden);
                float[] dh = new float[rows * 2 * hidden];
                SwiGluOp.backward(h, 0, 2 * hidden, rows, hidden, rs, 2, ldo, dh, 0, 2 * hidden);
                assertClose("dh fd " + at, numeric(hd, v -> dot(swiglu(v, rows, hidden), r), 80), dh, TOL);
            }
    }

    @Test
    void gatedResidualMatchesNaiveLoopsAndFiniteDifferences() {
        Random rnd = new Random(63);
        for (int rows : SIZES)
            for (int dim : SIZES) {
                String at = rows + "x" + dim;
                float[] res = random(rnd, rows * dim), y = random(rnd, rows * dim), gate = random(rnd, 2 * dim);
                float[] r = random(rnd, rows * dim), out = new float[rows * dim];
                GatedResidualOp.forward(res, 0, y, 0, rows, dim, gate, dim, out, 0);
                double[] e = new double[rows * dim];
                for (int i = 0; i < e.length; i++) e[i] = res[i] + (double) gate[dim + i % dim] * y[i];
                assertClose("out " + at, e, out, TOL);
                float[] dy = new float[rows * dim], dg = new float[2 * dim];
                GatedResidualOp.backward(r, 0, y, 0, rows, dim, gate, dim, dy, 0, dg, dim);
                double[] yd = toDouble(y), gd = toDouble(gate);
                assertClose("dy fd " + at, numeric(yd, v -> {
                    double s = 0;
                    for (int i = 0; i < v.length; i++) s += (res[i] + gd[dim + i % dim] * v[i]) * r[i];
                    return s;
                }, 60), dy, TOL);
                assertClose("dgate fd " + at, numeric(gd, v -> {
                    double s = 0;
                    for (int i = 0; i < yd.length; i++) s += (res[i] + v[dim + i % dim] * yd[i]) * r[i];
                    return s;
                }, 2 * dim), dg, TOL);
            }
    }
}
