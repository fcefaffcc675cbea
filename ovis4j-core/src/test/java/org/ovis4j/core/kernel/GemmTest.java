package org.ovis4j.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

class GemmTest {
    static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** y[m, n] = Σ_k x[m, k]·w[n, k] + b[n] in double. */
    static double[] naive(float[] x, float[] w, float[] b, int m, int k, int n) {
        double[] y = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = b == null ? 0 : b[j];
                for (int t = 0; t < k; t++) s += (double) x[i * k + t] * w[j * k + t];
                y[i * n + j] = s;
            }
        return y;
    }

    static void check(double[] expected, float[] actual, int k) {
        // float32 accumulation of k products of unit normals: error grows like sqrt(k)·ulp
        double tol = 1e-5 * Math.sqrt(k) * 4;
        for (int i = 0; i < expected.length; i++)
            assertEquals(expected[i], actual[i], tol * (1 + Math.abs(expected[i])), "element " + i);
    }

    @Test
    void linearMatchesNaiveForOddSizesAndAllDtypes() {
        Random r = new Random(1);
        int[] sizes = {1, 7, 33, 129};
        try (Arena arena = Arena.ofShared()) {
            for (int m : sizes)
                for (int k : new int[] {1, 7, 33, 300})
                    for (int n : sizes)
                        for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
                            float[] x = random(r, m * k), w = random(r, n * k), b = random(r, n);
                            Tensor wt = Tensor.ofFloats("w", new long[] {n, k}, w, arena).convert(dt, arena);
                            float[] wq = wt.toFloats(); // the values the kernel must see after widening
                            Projection lin = ComputeContext.JAVA.projection(wt, Tensor.ofFloats("b", new long[] {n}, b, arena));
                            check(naive(x, wq, b, m, k, n), lin.apply(x, m), k);
                        }
        }
    }

    @Test
    void q8_0WeightsMultiplyAsTheirDequantizedValues() {
        Random r = new Random(4);
        try (Arena arena = Arena.ofShared()) {
            for (int m : new int[] {1, 7, 40})
                for (int k : new int[] {32, 96, 320})
                    for (int n : new int[] {1, 33, 70}) {
                        float[] x = random(r, m * k), w = random(r, n * k), b = random(r, n);
                        byte[] q = new byte[n * k];
                        float[] scales = new float[n * k / 32];
                        for (int row = 0; row < n; row++)
                            for (int blk = 0; blk < k / 32; blk++) {
                                short bits = org.ovis4j.core.quant.Q8_0.scaleBits(w, row * k + blk * 32);
                                org.ovis4j.core.quant.Q8_0.quantizeBlock(w, row * k + blk * 32, bits, q, row * k + blk * 32);
                                scales[row * (k / 32) + blk] = org.ovis4j.core.tensor.Floats.f16ToFloat(bits);
                            }
                        var seg = arena.allocate(q.length);
                        java.lang.foreign.MemorySegment.copy(q, 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, q.length);
                        Tensor wt = new Tensor("w", DType.I8, new long[] {n, k}, seg)
                                .withBlockScales(Tensor.ofFloats("s", new long[] {n, k / 32}, scales, arena));
                        float[] wq = wt.toFloats();
                        // Dequantized values stay within half a step of the originals: |w - wq| <= d/2.
                        for (int i = 0; i < w.length; i++)
                            assertEquals(w[i], wq[i], scales[i / 32] * 0.5 + 1e-7, "dequantized element " + i);
                        Tensor bias = Tensor.ofFloats("b", new long[] {n}, b, arena);
                        float[] packed = ComputeContext.JAVA.projection(wt, bias).apply(x, m);
                        check(naive(x, wq, b, m, k, n), packed, k);
                        // used in place (the text encoder's way) the kernel sees the same panels
                        org.junit.jupiter.api.Assertions.assertArrayEquals(packed,
                                ComputeContext.JAVA.projection(wt, bias, DenseProjection.Storage.IN_PLACE).apply(x, m));
                    }
        }
    }

    @Test
    void offsetsStridesAndAccumulation() {
        Random r = new Random(2);
        int m = 9, k = 40, n = 35, ldc = 50, cOff = 7;
        float[] a = random(r, 3 + m * 45), b = random(r, k * n);
        float[] c = new float[m * ldc];
        Gemm.gemm(a, 3, 45, m, k, rowMajorKN(b, n), n, null, c, ldc, cOff, false);
        Gemm.gemm(a, 3, 45, m, k, rowMajorKN(b, n), n, null, c, ldc, cOff, true);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int t = 0; t < k; t++) s += (double) a[3 + i * 45 + t] * b[t * n + j];
                assertEquals(2 * s, c[i * ldc + cOff + j], 1e-4, "c[" + i + "," + j + "]");
            }
        assertEquals(0f, c[0]); // columns before cOff untouched
    }

    /** B as a float matrix stored [K, N] row-major, packed per call: the source path of the GEMM. */
    static Gemm.PanelSource rowMajorKN(float[] b, int ldb) {
        return (n0, nr, k0, kc, panel, off) -> {
            for (int kk = 0; kk < kc; kk++) {
                int src = (k0 + kk) * ldb + n0, dst = off + kk * Gemm.NR;
                System.arraycopy(b, src, panel, dst, nr);
                java.util.Arrays.fill(panel, dst + nr, dst + Gemm.NR, 0f);
            }
        };
    }
}
