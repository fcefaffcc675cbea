package org.ovis4j.train.ops;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.ovis4j.train.testing.GradCheck.SIZES;
import static org.ovis4j.train.testing.GradCheck.random;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.kernel.Bf16Gemm;
import org.ovis4j.core.tensor.Floats;
import org.ovis4j.train.optim.ComputePrecision;
import org.ovis4j.train.optim.ComputeWeights;

/**
 * LinearOp's bf16 forms against naive double loops over the bf16-rounded operands (the float32 forms are
 * LinearOpTest's, with finite differences; the bf16 ones are the same formulas with other arithmetic).
 * Each term of a rounded product is exact in float32, so the only error is the float32 summation of k
 * terms: at most (k + 2)·2⁻²⁴·Σ|terms| per element (the 2 for an accumulated C and the bias). The bias
 * gradient is float32 column sums of the unrounded dY, as in float32.
 */
class LinearOpBf16Test {
    private static double r16(float v) {
        return Floats.roundToBf16(v);
    }

    private static void close(String what, double[] want, double[] mag, int terms, float[] got, int off, int ld, int rows, int cols) {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) {
                double tol = (terms + 2) * 0x1p-24 * mag[i * cols + j] + 1e-30;
                double g = got[off + i * ld + j], e = want[i * cols + j];
                if (Math.abs(g - e) > tol) fail(what + " at (" + i + ", " + j + "): " + g + " vs " + e + " (tolerance " + tol + ")");
            }
    }

    @Test
    void forwardAndBackwardMatchNaiveLoopsOverRoundedOperands() {
        ComputeWeights cw = ComputeWeights.of(ComputePrecision.BF16, s -> {});
        assumeTrue(cw.precision() == ComputePrecision.BF16, "no bf16 matmul here (Bf16ComputeTest checks the fallback)");
        Bf16Gemm g = cw.gemm();
        Random rnd = new Random(22);
        for (int m : SIZES)
            for (int k : SIZES)
                for (int n : SIZES) {
                    String at = m + "x" + k + "x" + n;
                    // x as columns 2.. of a wider buffer (stride k + 3), dY likewise (stride n + 1): the strided forms
                    int ldx = k + 3, lddy = n + 1;
                    float[] x = random(rnd, 2 + m * ldx), w = random(rnd, n * k), b = random(rnd, n), dy = random(rnd, 1 + m * lddy);
                    Bf16Gemm.Matrix w16 = g.matrix(n, k);
                    g.round(w, 0, w16);
                    float[] y = new float[m * n];
                    LinearOp.forward(x, 2, ldx, m, g, w16, b, k, n, y, 0, n);
                    double[] ey = new double[m * n], my = new double[m * n];
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double s = b[j], a = Math.abs(b[j]);
                            for (int t = 0; t < k; t++) {
                                double p = r16(x[2 + i * ldx + t]) * r16(w[j * k + t]);
                                s += p;
                                a += Math.abs(p);
                            }
                            ey[i * n + j] = s;
                            my[i * n + j] = a;
                        }
                    close("y " + at, ey, my, k, y, 0, n, m, n);

                    float[] dx0 = random(rnd, m * k), dx = dx0.clone(), dw0 = random(rnd, n * k), dw = dw0.clone(), db0 = random(rnd, n),
                            db = db0.clone();
                    LinearOp.backward(x, 2, ldx, m, g, w16, k, n, dy, 1, lddy, dx, 0, k, true, dw, db);
                    double[] ex = new double[m * k], mx = new double[m * k], ew = new double[n * k], mw = new double[n * k];
                    double[] eb = new double[n], mb = new double[n];
                    for (int i = 0; i < m * k; i++) {
                        ex[i] = dx0[i];
                        mx[i] = Math.abs(dx0[i]);
                    }
                    for (int i = 0; i < n * k; i++) {
                        ew[i] = dw0[i];
                        mw[i] = Math.abs(dw0[i]);
                    }
                    for (int j = 0; j < n; j++) {
                        eb[j] = db0[j];
                        mb[j] = Math.abs(db0[j]);
                    }
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            float d = dy[1 + i * lddy + j];
                            eb[j] += d;
                            mb[j] += Math.abs(d);
                            for (int t = 0; t < k; t++) {
                                double px = r16(d) * r16(w[j * k + t]), pw = r16(d) * r16(x[2 + i * ldx + t]);
                                ex[i * k + t] += px;
                                mx[i * k + t] += Math.abs(px);
                                ew[j * k + t] += pw;
                                mw[j * k + t] += Math.abs(pw);
                            }
                        }
                    close("dx (accumulated) " + at, ex, mx, n, dx, 0, k, m, k);
                    close("dw " + at, ew, mw, m, dw, 0, k, n, k);
                    close("db " + at, eb, mb, m, db, 0, n, 1, n);
                }
    }
}
