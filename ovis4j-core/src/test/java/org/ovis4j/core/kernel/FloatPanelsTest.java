package org.ovis4j.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FloatPanelsTest {
    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    private static void check(double expected, float actual, int k, String what) {
        // float32 accumulation of k products of unit normals: error grows like sqrt(k)·ulp
        double tol = 4e-5 * Math.sqrt(k);
        assertEquals(expected, actual, tol * (1 + Math.abs(expected)), what);
    }

    /** C = A·B for B a row-major K x N matrix inside a wider array (offset, leading dimension > N), accumulating. */
    @Test
    void rowMajorSourceMultipliesLikeNaiveLoops() {
        Random r = new Random(11);
        for (int m : new int[] {1, 7, 33, 129})
            for (int k : new int[] {1, 7, 33, 300})
                for (int n : new int[] {1, 7, 33, 129}) {
                    int ld = n + 3, off = 5;
                    float[] a = random(r, m * k), b = random(r, off + k * ld), c0 = random(r, m * n), c = c0.clone();
                    Gemm.gemm(a, k, m, k, FloatPanels.rowMajor(b, off, ld), n, null, c, n, 0, true);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double s = c0[i * n + j];
                            for (int t = 0; t < k; t++) s += (double) a[i * k + t] * b[off + t * ld + j];
                            check(s, c[i * n + j], k, m + "x" + k + "x" + n + " at " + i + "," + j);
                        }
                }
    }

    /** C = A·Wᵀ + bias for W [N, K] inside a wider array, written into a column block of a wider C. */
    @Test
    void transposedSourceMultipliesLikeNaiveLoops() {
        Random r = new Random(12);
        for (int m : new int[] {1, 7, 33, 129})
            for (int k : new int[] {1, 7, 33, 300})
                for (int n : new int[] {1, 7, 33, 129}) {
                    int ld = k + 2, off = 3, ldc = n + 4, cOff = 2;
                    float[] a = random(r, m * k), w = random(r, off + n * ld), bias = random(r, n), c = new float[m * ldc];
                    Gemm.gemm(a, k, m, k, FloatPanels.transposed(w, off, ld), n, bias, c, ldc, cOff, false);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double s = bias[j];
                            for (int t = 0; t < k; t++) s += (double) a[i * k + t] * w[off + j * ld + t];
                            check(s, c[i * ldc + cOff + j], k, m + "x" + k + "x" + n + " at " + i + "," + j);
                        }
                }
    }

    /** Packing once up front gives the same product, bit for bit (the same panels reach the same kernel). */
    @Test
    void packedSourcesGiveTheDirectSourcesProducts() {
        Random r = new Random(13);
        for (int m : new int[] {1, 7, 193, 400})
            for (int k : new int[] {1, 33, 300})
                for (int n : new int[] {1, 7, 33, 129}) {
                    float[] a = random(r, m * k), w = random(r, n * k + 2), b = random(r, k * n + 1);
                    float[] c1 = new float[m * n], c2 = new float[m * n], c3 = new float[m * n], c4 = new float[m * n];
                    Gemm.gemm(a, k, m, k, FloatPanels.transposed(w, 2, k), n, null, c1, n, 0, false);
                    Gemm.gemm(a, k, m, k, FloatPanels.forRows(m, FloatPanels.transposed(w, 2, k), k, n), n, null, c2, n, 0, false);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(c1, c2);
                    Gemm.gemm(a, k, m, k, FloatPanels.rowMajor(b, 1, n), n, null, c3, n, 0, false);
                    Gemm.gemm(a, k, m, k, FloatPanels.packed(FloatPanels.rowMajor(b, 1, n), k, n), n, null, c4, n, 0, false);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(c3, c4);
                }
    }
}
