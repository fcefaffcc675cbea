package org.ovis4j.train.ops;

import static org.ovis4j.train.ops.VaeOpsTesting.assertClose;
import static org.ovis4j.train.ops.VaeOpsTesting.assertFiniteDifferences;
import static org.ovis4j.train.ops.VaeOpsTesting.dot;
import static org.ovis4j.train.ops.VaeOpsTesting.gaussian;
import static org.ovis4j.train.ops.VaeOpsTesting.toDouble;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Conv2dOp against a naive double-precision convolution (forward and hand-derived backward) and
 * against central differences of that double forward.
 *
 * <p>Tolerances: each output or gradient element is a float32 sum of up to K = Cin·9 (≤ 1161 here)
 * or B·Ho·Wo products, accumulated in blocks of 256 with FMA; the rounding error relative to the
 * largest element stays near √K·2^−24 ≈ 2e-6, so 2e-5 of the largest reference value leaves margin
 * and still catches any wrong index (those are O(1) errors). Finite differences in double are
 * accurate to ~1e-9 relative, so the same 2e-5 applies to the float gradients against them.
 */
class Conv2dOpTest {
    private static final double TOL = 2e-5;

    /** Naive y[b, oy, ox, co] in double. */
    static double[] forward(Conv2dOp op, double[] wgt, double[] bias, double[] x, int batch, int h, int w,
                            int stride, int pt, int pl) {
        int ci = op.in(), co = op.out(), k = op.kernel(), ho = op.outHeight(h), wo = op.outWidth(w);
        double[] y = new double[batch * ho * wo * co];
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int o = 0; o < co; o++) {
                        double s = bias[o];
                        for (int i = 0; i < ci; i++)
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy * stride + ky - pt, ix = ox * stride + kx - pl;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                    s += wgt[((o * ci + i) * k + ky) * k + kx] * x[((b * h + iy) * w + ix) * ci + i];
                                }
                        y[((b * ho + oy) * wo + ox) * co + o] = s;
                    }
        return y;
    }

    /** Naive dX, dW, db for dY, in double: index for index the transpose of {@link #forward}. */
    static double[][] backward(Conv2dOp op, double[] wgt, double[] x, double[] dy, int batch, int h, int w, int stride, int pt, int pl) {
        int ci = op.in(), co = op.out(), k = op.kernel(), ho = op.outHeight(h), wo = op.outWidth(w);
        double[] dx = new double[x.length], dw = new double[wgt.length], db = new double[co];
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++)
                    for (int o = 0; o < co; o++) {
                        double g = dy[((b * ho + oy) * wo + ox) * co + o];
                        db[o] += g;
                        for (int i = 0; i < ci; i++)
                            for (int ky = 0; ky < k; ky++)
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy * stride + ky - pt, ix = ox * stride + kx - pl;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                    int wi = ((o * ci + i) * k + ky) * k + kx, xi = ((b * h + iy) * w + ix) * ci + i;
                                    dw[wi] += g * x[xi];
                                    dx[xi] += g * wgt[wi];
                                }
                    }
        return new double[][] {dx, dw, db};
    }

    private record Case(String kind, int batch, int h, int w, int cin, int cout) {}

    private static Conv2dOp op(String kind, int cin, int cout) {
        return switch (kind) {
            case "same3" -> Conv2dOp.same(cin, cout, 3);
            case "pointwise" -> Conv2dOp.pointwise(cin, cout);
            case "down" -> Conv2dOp.downsample(cin, cout);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    private static int stride(String kind) { return kind.equals("down") ? 2 : 1; }
    private static int pad(String kind) { return kind.equals("same3") ? 1 : 0; }

    private void run(Case c, boolean finiteDifferences, long seed) {
        Random r = new Random(seed);
        Conv2dOp op = op(c.kind, c.cin, c.cout);
        int s = stride(c.kind), p = pad(c.kind), ho = op.outHeight(c.h), wo = op.outWidth(c.w);
        float[] x = gaussian(r, c.batch * c.h * c.w * c.cin, 1);
        float[] wgt = gaussian(r, op.weightSize(), 1 / Math.sqrt(c.cin * op.kernel() * op.kernel()));
        float[] bias = gaussian(r, c.cout, 0.1);
        float[] dy = gaussian(r, c.batch * ho * wo * c.cout, 1);
        ConvBuffers buf = new ConvBuffers();

        float[] y = new float[dy.length];
        op.forward(wgt, bias, x, c.batch, c.h, c.w, y, buf);
        double[] xd = toDouble(x), wd = toDouble(wgt), bd = toDouble(bias), dyd = toDouble(dy);
        assertClose(c + " y", forward(op, wd, bd, xd, c.batch, c.h, c.w, s, p, p), y, TOL);

        // Gradients are added to what is there: start from small non-zero values (their rounding,
        // ~1e-3 · 2^-24, is far below the tolerance) and subtract them after.
        float[] dx = gaussian(r, x.length, 1e-3), dw = gaussian(r, wgt.length, 1e-3), db = gaussian(r, c.cout, 1e-3);
        float[] dx0 = dx.clone(), dw0 = dw.clone(), db0 = db.clone();
        op.backward(wgt, x, c.batch, c.h, c.w, dy, dx, dw, db, buf);
        for (int i = 0; i < dx.length; i++) dx[i] -= dx0[i];
        for (int i = 0; i < dw.length; i++) dw[i] -= dw0[i];
        for (int i = 0; i < db.length; i++) db[i] -= db0[i];
        double[][] ref = backward(op, wd, xd, dyd, c.batch, c.h, c.w, s, p, p);
        assertClose(c + " dx", ref[0], dx, TOL);
        assertClose(c + " dw", ref[1], dw, TOL);
        assertClose(c + " db", ref[2], db, TOL);

        if (finiteDifferences) {
            assertFiniteDifferences(c + " fd dx", xd, xs -> dot(forward(op, wd, bd, xs, c.batch, c.h, c.w, s, p, p), dyd),
                    dx, 40, r, 1e-4);
            assertFiniteDifferences(c + " fd dw", wd, ws -> dot(forward(op, ws, bd, xd, c.batch, c.h, c.w, s, p, p), dyd),
                    dw, 40, r, 1e-4);
            assertFiniteDifferences(c + " fd db", bd, bs -> dot(forward(op, wd, bs, xd, c.batch, c.h, c.w, s, p, p), dyd),
                    db, 40, r, 1e-4);
        }
    }

    @Test
    void sameThreeByThreeOddSizes() {
        run(new Case("same3", 1, 1, 1, 1, 1), true, 1);
        run(new Case("same3", 2, 7, 5, 3, 8), true, 2);
        run(new Case("same3", 3, 33, 7, 1, 7), true, 3);
        run(new Case("same3", 1, 4, 6, 129, 7), true, 4);
        run(new Case("same3", 2, 1, 33, 7, 33), true, 5);
    }

    @Test
    void pointwiseOddSizes() {
        run(new Case("pointwise", 1, 1, 1, 1, 1), true, 11);
        run(new Case("pointwise", 2, 7, 5, 16, 8), true, 12);
        run(new Case("pointwise", 1, 33, 1, 129, 33), true, 13);
        run(new Case("pointwise", 3, 7, 7, 7, 129), true, 14);
    }

    @Test
    void downsampleOddAndEvenSizes() {
        run(new Case("down", 1, 2, 2, 1, 1), true, 21);
        run(new Case("down", 2, 7, 5, 3, 3), true, 22);
        run(new Case("down", 1, 8, 12, 7, 7), true, 23);
        run(new Case("down", 2, 33, 33, 5, 6), true, 24);
        run(new Case("down", 1, 4, 129, 33, 1), true, 25);
    }

    /**
     * Inputs large enough that the output lines are split into several 2^18-value bands (3–6 here),
     * some of them crossing from one image into the next.
     */
    @Test
    void severalBands() {
        run(new Case("same3", 2, 40, 37, 32, 8), false, 31);
        run(new Case("down", 3, 33, 31, 96, 3), false, 32);
        run(new Case("pointwise", 2, 64, 64, 160, 3), false, 33);
    }
}
