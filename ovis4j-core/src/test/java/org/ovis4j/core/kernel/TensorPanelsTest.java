package org.ovis4j.core.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * Panel sources over stored tensors: a product through them equals, bit for bit, the same product over
 * the widened float32 matrix through {@link FloatPanels} (both hand the kernel the same panel values),
 * whether the GEMM packs block by block or the source is packed once up front ({@link FloatPanels#forRows}
 * with more rows than a row block); and that product matches naive loops.
 */
class TensorPanelsTest {
    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Test
    void storedTensorsMultiplyExactlyLikeTheirWidenedValues() {
        Random r = new Random(31);
        try (Arena arena = Arena.ofShared()) {
            for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16})
                for (int m : new int[] {1, 7, 33, 200})
                    for (int k : new int[] {1, 7, 33, 300})
                        for (int n : new int[] {1, 7, 33, 129}) {
                            String at = dt + " " + m + "x" + k + "x" + n;
                            // W [n, k] for y = x·Wᵀ, and V [k, n] for a product with V itself
                            Tensor w = Tensor.ofFloats("w", new long[] {n, k}, random(r, n * k), arena).convert(dt, arena);
                            Tensor v = Tensor.ofFloats("v", new long[] {k, n}, random(r, k * n), arena).convert(dt, arena);
                            float[] wf = w.toFloats(), vf = v.toFloats(), a = random(r, m * k), bias = random(r, n);

                            float[] y1 = new float[m * n], y2 = new float[m * n], y3 = new float[m * n];
                            Gemm.gemm(a, k, m, k, FloatPanels.transposed(wf, 0, k), n, bias, y1, n, 0, false);
                            Gemm.gemm(a, k, m, k, TensorPanels.transposed(w), n, bias, y2, n, 0, false);
                            Gemm.gemm(a, k, m, k, FloatPanels.forRows(m, TensorPanels.transposed(w), k, n), n, bias, y3, n, 0, false);
                            assertArrayEquals(y1, y2, "Wᵀ " + at);
                            assertArrayEquals(y1, y3, "Wᵀ packed " + at);

                            float[] c0 = random(r, m * n), z1 = c0.clone(), z2 = c0.clone(), z3 = c0.clone();
                            Gemm.gemm(a, k, m, k, FloatPanels.rowMajor(vf, 0, n), n, null, z1, n, 0, true);
                            Gemm.gemm(a, k, m, k, TensorPanels.rowMajor(v), n, null, z2, n, 0, true);
                            Gemm.gemm(a, k, m, k, FloatPanels.forRows(m, TensorPanels.rowMajor(v), k, n), n, null, z3, n, 0, true);
                            assertArrayEquals(z1, z2, "V " + at);
                            assertArrayEquals(z1, z3, "V packed " + at);

                            // and the products themselves: float32 sums of k unit-normal products, error ~ sqrt(k) ulp
                            double tol = 4e-5 * Math.sqrt(k);
                            for (int i = 0; i < m; i++)
                                for (int j = 0; j < n; j++) {
                                    double s = bias[j], t = c0[i * n + j];
                                    for (int q = 0; q < k; q++) {
                                        s += (double) a[i * k + q] * wf[j * k + q];
                                        t += (double) a[i * k + q] * vf[q * n + j];
                                    }
                                    assertEquals(s, y2[i * n + j], tol * (1 + Math.abs(s)), "Wᵀ " + at + " at " + i + "," + j);
                                    assertEquals(t, z2[i * n + j], tol * (1 + Math.abs(t)), "V " + at + " at " + i + "," + j);
                                }
                        }
        }
    }
}
