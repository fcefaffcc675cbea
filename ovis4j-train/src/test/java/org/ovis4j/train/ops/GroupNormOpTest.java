package org.ovis4j.train.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.ovis4j.train.ops.VaeOpsTesting.assertClose;
import static org.ovis4j.train.ops.VaeOpsTesting.assertFiniteDifferences;
import static org.ovis4j.train.ops.VaeOpsTesting.dot;
import static org.ovis4j.train.ops.VaeOpsTesting.gaussian;
import static org.ovis4j.train.ops.VaeOpsTesting.toDouble;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * GroupNormOp (with and without SiLU) against a naive double GroupNorm, its hand-derived double
 * backward, and central differences of the double forward.
 *
 * <p>Tolerance 2e-5 of the largest reference value: the float32 results are a few roundings of
 * (x − μ)·ρ·γ + β (each 2^−24 relative, times |x̂| ≤ √n for the largest values) plus the float32
 * exp in SiLU; the group means in the backward are double sums rounded once. Observed ≤ 1e-6.
 */
class GroupNormOpTest {
    private static final float EPS = 1e-6f;
    private static final double TOL = 2e-5;

    static double silu(double t) { return t / (1 + Math.exp(-t)); }

    static double[] forward(double[] x, int batch, int pixels, int c, int groups, double[] gamma, double[] beta, boolean act) {
        int cg = c / groups;
        double[] y = new double[x.length];
        for (int b = 0; b < batch; b++)
            for (int g = 0; g < groups; g++) {
                double s = 0, n = (double) pixels * cg;
                for (int p = 0; p < pixels; p++) for (int j = 0; j < cg; j++) s += x[(b * pixels + p) * c + g * cg + j];
                double m = s / n, v = 0;
                for (int p = 0; p < pixels; p++)
                    for (int j = 0; j < cg; j++) v += Math.pow(x[(b * pixels + p) * c + g * cg + j] - m, 2);
                double rs = 1 / Math.sqrt(v / n + EPS);
                for (int p = 0; p < pixels; p++)
                    for (int j = 0; j < cg; j++) {
                        int i = (b * pixels + p) * c + g * cg + j, ch = g * cg + j;
                        double t = (x[i] - m) * rs * gamma[ch] + beta[ch];
                        y[i] = act ? silu(t) : t;
                    }
            }
        return y;
    }

    /** dx, dγ, dβ in double from the textbook formula, group by group. */
    static double[][] backward(double[] x, double[] dy, int batch, int pixels, int c, int groups, double[] gamma, double[] beta, boolean act) {
        int cg = c / groups;
        double[] dx = new double[x.length], dg = new double[c], db = new double[c];
        for (int b = 0; b < batch; b++)
            for (int g = 0; g < groups; g++) {
                double s = 0, n = (double) pixels * cg;
                for (int p = 0; p < pixels; p++) for (int j = 0; j < cg; j++) s += x[(b * pixels + p) * c + g * cg + j];
                double m = s / n, v = 0;
                for (int p = 0; p < pixels; p++)
                    for (int j = 0; j < cg; j++) v += Math.pow(x[(b * pixels + p) * c + g * cg + j] - m, 2);
                double rs = 1 / Math.sqrt(v / n + EPS);
                double[] dt = new double[pixels * cg], xh = new double[pixels * cg];
                double s1 = 0, s2 = 0;
                for (int p = 0; p < pixels; p++)
                    for (int j = 0; j < cg; j++) {
                        int i = (b * pixels + p) * c + g * cg + j, ch = g * cg + j, l = p * cg + j;
                        xh[l] = (x[i] - m) * rs;
                        double t = xh[l] * gamma[ch] + beta[ch];
                        double sg = 1 / (1 + Math.exp(-t));
                        dt[l] = act ? dy[i] * sg * (1 + t * (1 - sg)) : dy[i];
                        dg[ch] += dt[l] * xh[l];
                        db[ch] += dt[l];
                        s1 += dt[l] * gamma[ch];
                        s2 += dt[l] * gamma[ch] * xh[l];
                    }
                for (int p = 0; p < pixels; p++)
                    for (int j = 0; j < cg; j++) {
                        int i = (b * pixels + p) * c + g * cg + j, ch = g * cg + j, l = p * cg + j;
                        dx[i] = rs * (dt[l] * gamma[ch] - s1 / n - xh[l] * s2 / n);
                    }
            }
        return new double[][] {dx, dg, db};
    }

    private void run(int batch, int pixels, int c, int groups, boolean act, boolean fd, long seed) {
        Random r = new Random(seed);
        GroupNormOp op = new GroupNormOp(c, groups, EPS, act);
        // An offset mean and a spread different from 1, as real activations have.
        float[] x = gaussian(r, batch * pixels * c, 2.5);
        for (int i = 0; i < x.length; i++) x[i] += 0.7f;
        float[] gamma = gaussian(r, c, 0.3), beta = gaussian(r, c, 0.5);
        for (int i = 0; i < c; i++) gamma[i] += 1f;
        float[] dy = gaussian(r, x.length, 1);
        float[] y = new float[x.length], mean = new float[op.statsSize(batch)], rstd = new float[op.statsSize(batch)];
        op.forward(x, batch, pixels, gamma, beta, y, mean, rstd);
        double[] xd = toDouble(x), gd = toDouble(gamma), bd = toDouble(beta), dyd = toDouble(dy);
        String what = batch + "x" + pixels + "x" + c + "/" + groups + (act ? " silu" : "");
        assertClose(what + " y", forward(xd, batch, pixels, c, groups, gd, bd, act), y, TOL);

        float[] again = new float[x.length];
        op.apply(x, batch, pixels, gamma, beta, mean, rstd, again);
        assertArrayEquals(y, again, what + ": apply must rebuild the forward's output bit for bit");

        float[] dx = gaussian(r, x.length, 1e-3), dg = gaussian(r, c, 1e-3), db = gaussian(r, c, 1e-3);
        float[] dx0 = dx.clone(), dg0 = dg.clone(), db0 = db.clone();
        op.backward(x, batch, pixels, gamma, beta, mean, rstd, dy, dx, dg, db);
        for (int i = 0; i < dx.length; i++) dx[i] -= dx0[i];
        for (int i = 0; i < c; i++) {
            dg[i] -= dg0[i];
            db[i] -= db0[i];
        }
        double[][] ref = backward(xd, dyd, batch, pixels, c, groups, gd, bd, act);
        assertClose(what + " dx", ref[0], dx, TOL);
        assertClose(what + " dgamma", ref[1], dg, TOL);
        assertClose(what + " dbeta", ref[2], db, TOL);
        if (fd) {
            assertFiniteDifferences(what + " fd dx", xd, xs -> dot(forward(xs, batch, pixels, c, groups, gd, bd, act), dyd), dx, 40, r, 1e-4);
            assertFiniteDifferences(what + " fd dgamma", gd, gs -> dot(forward(xd, batch, pixels, c, groups, gs, bd, act), dyd), dg, 40, r, 1e-4);
            assertFiniteDifferences(what + " fd dbeta", bd, bs -> dot(forward(xd, batch, pixels, c, groups, gd, bs, act), dyd), db, 40, r, 1e-4);
        }
    }

    @Test
    void oddSizesWithAndWithoutSilu() {
        long seed = 1;
        for (boolean act : new boolean[] {false, true}) {
            run(1, 1, 7, 1, act, true, seed++);
            run(2, 7, 7, 7, act, true, seed++);
            run(3, 33, 16, 4, act, true, seed++);
            run(1, 129, 33, 3, act, true, seed++);
            run(2, 513, 8, 4, act, true, seed++); // several pixel chunks per sample
            run(1, 5, 129, 43, act, true, seed++);
        }
    }

    @Test
    void oneChannelPerGroup() {
        // Every statistic is a single channel's (a layout the group indexing must not get wrong).
        run(2, 300, 32, 32, true, true, 40);
    }
}
