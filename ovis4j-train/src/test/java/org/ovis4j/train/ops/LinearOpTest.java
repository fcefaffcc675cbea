package org.ovis4j.train.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ovis4j.train.testing.GradCheck.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LinearOpTest {
    /**
     * float32 sums of at most 129 products of unit normals against double: the error is a few ulp times
     * sqrt(terms) of values of size ~sqrt(terms), far below 1e-5 of the largest value.
     */
    private static final double TOL = 1e-5;

    static double[] naive(double[] x, double[] w, double[] b, int m, int k, int n) {
        double[] y = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = b == null ? 0 : b[j];
                for (int t = 0; t < k; t++) s += x[i * k + t] * w[j * k + t];
                y[i * n + j] = s;
            }
        return y;
    }

    @Test
    void forwardAndBackwardMatchNaiveLoopsAndFiniteDifferences() {
        Random rnd = new Random(21);
        for (int m : SIZES)
            for (int k : SIZES)
                for (int n : SIZES) {
                    String at = m + "x" + k + "x" + n;
                    float[] x = random(rnd, m * k), w = random(rnd, n * k), b = random(rnd, n), r = random(rnd, m * n);
                    double[] xd = toDouble(x), wd = toDouble(w), bd = toDouble(b);
                    float[] y = new float[m * n];
                    LinearOp.forward(x, m, w, b, k, n, y);
                    assertClose("y " + at, naive(xd, wd, bd, m, k, n), y, TOL);

                    float[] dx = new float[m * k], dw = new float[n * k], db = new float[n];
                    LinearOp.backward(x, m, w, k, n, r, dx, false, dw, db);
                    // naive loops: dX = R·W, dW = Rᵀ·X, db = Σ_rows R
                    double[] ex = new double[m * k], ew = new double[n * k], eb = new double[n];
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            eb[j] += r[i * n + j];
                            for (int t = 0; t < k; t++) {
                                ex[i * k + t] += (double) r[i * n + j] * w[j * k + t];
                                ew[j * k + t] += (double) r[i * n + j] * x[i * k + t];
                            }
                        }
                    assertClose("dx " + at, ex, dx, TOL);
                    assertClose("dw " + at, ew, dw, TOL);
                    assertClose("db " + at, eb, db, TOL);
                    assertClose("dx fd " + at, numeric(xd, v -> dot(naive(v, wd, bd, m, k, n), r), 40), dx, TOL);
                    assertClose("dw fd " + at, numeric(wd, v -> dot(naive(xd, v, bd, m, k, n), r), 40), dw, TOL);
                    assertClose("db fd " + at, numeric(bd, v -> dot(naive(xd, wd, v, m, k, n), r), 40), db, TOL);
                }
    }

    /** Offsets, row strides wider than the matrices, accumulation into existing gradients, frozen weights. */
    @Test
    void stridedOperandsAccumulateAndFrozenWeightsAreSkipped() {
        Random rnd = new Random(22);
        int m = 33, k = 7, n = 129, ldx = 11, xOff = 3, ldy = 140, yOff = 5, lddx = 9, dxOff = 2;
        float[] x = random(rnd, xOff + m * ldx), w = random(rnd, n * k), b = random(rnd, n);
        float[] y = random(rnd, yOff + m * ldy), y0 = y.clone();
        LinearOp.forward(x, xOff, ldx, m, w, b, k, n, y, yOff, ldy);
        float[] xc = new float[m * k];
        for (int i = 0; i < m; i++) System.arraycopy(x, xOff + i * ldx, xc, i * k, k);
        double[] e = naive(toDouble(xc), toDouble(w), toDouble(b), m, k, n);
        for (int i = 0; i < y.length; i++) {
            int rel = i - yOff, row = Math.floorDiv(rel, ldy), col = Math.floorMod(rel, ldy);
            if (rel >= 0 && row < m && col < n) assertEquals(e[row * n + col], y[i], TOL * 20, "y at " + i);
            else assertEquals(y0[i], y[i], 0f, "outside y at " + i);
        }

        float[] dy = random(rnd, yOff + m * ldy), dx = random(rnd, dxOff + m * lddx), dx0 = dx.clone();
        float[] dw = random(rnd, n * k), dw0 = dw.clone();
        LinearOp.backward(x, xOff, ldx, m, w, k, n, dy, yOff, ldy, dx, dxOff, lddx, true, dw, null);
        for (int i = 0; i < m; i++)
            for (int t = 0; t < lddx; t++) {
                int at = dxOff + i * lddx + t;
                if (t >= k) {
                    assertEquals(dx0[at], dx[at], 0f, "outside dx");
                    continue;
                }
                double s = dx0[at];
                for (int j = 0; j < n; j++) s += (double) dy[yOff + i * ldy + j] * w[j * k + t];
                assertEquals(s, dx[at], 1e-4 * (1 + Math.abs(s)), "dx accumulated at " + i + "," + t);
            }
        for (int j = 0; j < n; j++)
            for (int t = 0; t < k; t++) {
                double s = dw0[j * k + t];
                for (int i = 0; i < m; i++) s += (double) dy[yOff + i * ldy + j] * x[xOff + i * ldx + t];
                assertEquals(s, dw[j * k + t], 1e-4 * (1 + Math.abs(s)), "dw accumulated at " + j + "," + t);
            }
        // a frozen layer: no weight or bias gradient, only dX
        float[] dxOnly = new float[m * k];
        LinearOp.backward(x, xOff, ldx, m, w, k, n, dy, yOff, ldy, dxOnly, 0, k, false, null, null);
        for (int i = 0; i < m; i++)
            for (int t = 0; t < k; t++)
                assertEquals(dx[dxOff + i * lddx + t] - dx0[dxOff + i * lddx + t], dxOnly[i * k + t], 1e-4f);
    }
}
