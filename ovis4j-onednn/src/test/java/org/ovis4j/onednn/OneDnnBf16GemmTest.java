package org.ovis4j.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.Bf16Gemm;
import org.ovis4j.core.tensor.Floats;

/**
 * Training's bf16 products against a naive double loop over the same bf16-rounded operands. The rounded
 * operands have 8 significant bits, so each product is exact in float32 (16 bits); the only error is
 * oneDNN's float32 summation of k terms in its own order, bounded by k·2⁻²⁴·Σ|a·b| (γ_k), plus the final
 * add into an accumulated C (2⁻²⁴ of it). The reference rounds with {@link Floats#roundToBf16} (nearest,
 * ties to even), so a rounding mode that differs shows as an error of 2⁻⁹ relative, far above that bound.
 */
class OneDnnBf16GemmTest {
    private static Bf16Gemm gemm;

    @BeforeAll
    static void load() {
        try {
            gemm = OneDnnMatmul.create().bf16Gemm();
        } catch (OvisException e) {
            gemm = null;
        }
    }

    @Test
    void offeredByTheBackendWhereItRuns() {
        if (!OneDnnMatmulTest.cpuHasBf16()) {
            assertThrows(OvisException.class, OneDnnMatmul::create);
            return;
        }
        assertNotNull(gemm);
        assertSame(gemm, OneDnnMatmul.create().bf16Gemm(), "one instance per backend");
        assertTrue(gemm.describe().contains("oneDNN 3."), gemm.describe());
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian());
        return a;
    }

    /** Element (i, p) of a row-major operand stored as [rows, cols] from off with stride ld, maybe transposed, bf16-rounded. */
    private static double at(float[] x, int off, int ld, boolean trans, int i, int p) {
        return Floats.roundToBf16(trans ? x[off + p * ld + i] : x[off + i * ld + p]);
    }

    private static void check(int m, int n, int k, float[] a, int aOff, int lda, boolean ta, float[] b, int bOff, int ldb, boolean tb,
                              float[] bias, float[] c0, float[] c, int cOff, int ldc, boolean acc, String what) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0, mag = 0;
                for (int p = 0; p < k; p++) {
                    double t = at(a, aOff, lda, ta, i, p) * at(b, bOff, ldb, tb, p, j);
                    s += t;
                    mag += Math.abs(t);
                }
                double base = acc ? c0[cOff + i * ldc + j] : bias != null ? bias[j] : 0;
                double want = base + s;
                double tol = (k + 2) * 0x1p-24 * (mag + Math.abs(base)) + 1e-30;
                double got = c[cOff + i * ldc + j];
                if (Math.abs(got - want) > tol)
                    throw new AssertionError(what + " at (" + i + ", " + j + "): " + got + " vs " + want + " (tolerance " + tol + ")");
            }
    }

    @Test
    void floatOperandsMatchTheDoubleLoopOnOddShapesEveryOrientation() {
        assumeTrue(gemm != null, "oneDNN's bf16 matmul is unavailable here (offeredByTheBackendWhereItRuns says why)");
        SplittableRandom r = new SplittableRandom(11);
        int[][] shapes = {{1, 1, 1}, {7, 33, 129}, {33, 7, 1}, {129, 33, 7}, {64, 129, 33}};
        for (int[] s : shapes)
            for (int flags = 0; flags < 8; flags++) {
                int m = s[0], n = s[1], k = s[2];
                boolean ta = (flags & 1) != 0, tb = (flags & 2) != 0, acc = (flags & 4) != 0;
                int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2, aOff = 4, bOff = 1, cOff = 3;
                float[] a = random(r, aOff + lda * (ta ? k : m));
                float[] b = random(r, bOff + ldb * (tb ? n : k));
                float[] c0 = random(r, cOff + ldc * m);
                float[] bias = flags % 3 == 0 ? random(r, n) : null;
                float[] c = c0.clone();
                gemm.multiply(m, n, k, a, aOff, lda, ta, b, bOff, ldb, tb, bias, c, cOff, ldc, acc);
                String what = m + "x" + n + "x" + k + " transA " + ta + " transB " + tb + " accumulate " + acc + " bias " + (bias != null);
                check(m, n, k, a, aOff, lda, ta, b, bOff, ldb, tb, bias, c0, c, cOff, ldc, acc, what);
                // the padding between rows of C is untouched
                for (int i = 0; i < m; i++)
                    for (int j = n; j < ldc && i * ldc + j + cOff < c.length; j++)
                        assertEquals(c0[cOff + i * ldc + j], c[cOff + i * ldc + j], what + ": padding changed");
            }
    }

    @Test
    void aRoundedMatrixIsTheSameOperandAsItsFloats() {
        assumeTrue(gemm != null, "oneDNN's bf16 matmul is unavailable here (offeredByTheBackendWhereItRuns says why)");
        SplittableRandom r = new SplittableRandom(12);
        for (int[] s : new int[][] {{7, 33, 129}, {129, 1, 7}, {32, 64, 33}}) {
            int m = s[0], n = s[1], k = s[2];
            float[] a = random(r, m * k), w = random(r, n * k + 6), bias = random(r, n);
            // W [n, k] as the forward reads it (Wᵀ) and [k, n] as dX = dY·W reads it
            Bf16Gemm.Matrix wt = gemm.matrix(n, k);
            gemm.round(w, 6, wt);
            float[] viaMatrix = new float[m * n], viaFloats = new float[m * n];
            gemm.multiply(m, n, k, a, 0, k, false, wt, true, bias, viaMatrix, 0, n, false);
            gemm.multiply(m, n, k, a, 0, k, false, w, 6, k, true, bias, viaFloats, 0, n, false);
            assertEquals(java.util.Arrays.toString(viaFloats), java.util.Arrays.toString(viaMatrix), "same operands, same primitive");
            check(m, n, k, a, 0, k, false, w, 6, k, true, bias, null, viaMatrix, 0, n, false, "matrix transB " + m + "x" + n + "x" + k);

            float[] dy = random(r, m * n), w2 = random(r, n * k);
            Bf16Gemm.Matrix wm = gemm.matrix(n, k);
            gemm.round(w2, 0, wm);
            float[] c0 = random(r, m * k), c = c0.clone();
            gemm.multiply(m, k, n, dy, 0, n, false, wm, false, null, c, 0, k, true);
            check(m, k, n, dy, 0, n, false, w2, 0, k, false, null, c0, c, 0, k, true, "matrix B " + m + "x" + k + "x" + n);
        }
        Bf16Gemm.Matrix small = gemm.matrix(3, 4);
        assertThrows(IllegalArgumentException.class, () -> gemm.multiply(2, 3, 5, new float[10], 0, 5, false, small, true, null,
                new float[6], 0, 3, false));
        assertThrows(IndexOutOfBoundsException.class, () -> gemm.round(new float[11], 0, small));
    }
}
