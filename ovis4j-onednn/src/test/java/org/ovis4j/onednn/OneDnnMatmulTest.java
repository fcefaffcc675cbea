package org.ovis4j.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.MatmulBackend;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * OneDnnMatmul against a double-precision loop over the same float inputs.
 *
 * <p>bf16 bound: x and W are each rounded to bf16 (relative error ≤ u = 2^-8 with 8 significant
 * bits), so each product is off by at most (2u + u²)|x_k||w_k|; oneDNN accumulates in f32, adding
 * at most K·2^-24 relative to Σ|x_k w_k|. The test bound is (2u + u² + K·2^-24)·Σ_k|x_k w_k| + 1e-6
 * per output: rigorous, and for these random inputs a few times below the typical size of one
 * output (~ sqrt(K)/12), so a wrong row, column, offset or bias fails it.
 *
 * <p>int8 bound: x_rk = sx_r·q + e with |e| ≤ sx_r/2 (sx_r = max|x_r|/127), likewise w with sw_n;
 * the error Σ (e_x w + x e_w + e_x e_w) is a sum of K independent rounding errors, each uniform
 * with variance step²/12, so its standard deviation is σ = sqrt(sx²/12·Σw² + sw²/12·Σx²) (plus
 * the tiny e_x·e_w term); the test allows 6σ + K·sx·sw/4 + 1e-6 and also checks the rigorous worst
 * case Σ(sx/2·|w| + sw/2·|x| + sx·sw/4).
 */
class OneDnnMatmulTest {
    private static final double U = 1.0 / 256;
    private static OneDnnMatmul backend;
    /**
     * The backend without the CPU check, for the f32 numerics, which oneDNN computes on any x86-64
     * CPU; null where the library does not load. (bf16 needs AVX512-BF16 or AMX; s8·s8 without VNNI
     * goes through 16-bit pair sums that saturate, seen on AVX2: both stay behind the CPU check.)
     */
    private static OneDnnMatmul anyCpu;

    /** Flags in /proc/cpuinfo that make the backend worth creating (oneDNN wants AVX512-BF16 or AMX). */
    static boolean cpuHasBf16() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
                if (line.startsWith("flags")) return line.contains(" avx512_bf16") || line.contains(" amx_bf16");
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    @BeforeAll
    static void load() {
        try {
            anyCpu = OneDnnMatmul.createOnAnyCpu();
            backend = OneDnnMatmul.create();
        } catch (OvisException e) {
            backend = null;
        }
    }

    @Test
    void createSucceedsWhereTheCpuHasBf16AndExplainsItselfElsewhere() {
        if (cpuHasBf16()) {
            OneDnnMatmul b = OneDnnMatmul.create(); // throws, failing the test, if the jars or library do not load here
            assertEquals("onednn", b.name());
            assertSame(b, OneDnnMatmul.create());
            assertTrue(b.describe().contains("oneDNN 3."), b.describe());
        } else {
            OvisException e = assertThrows(OvisException.class, OneDnnMatmul::create);
            assertNotNull(e.getMessage());
            assertFalse(e.getMessage().isBlank());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
            assertTrue(e.getMessage().contains("oneDNN") || e.getMessage().contains("dnnl"), e.getMessage());
        }
    }

    /** A CPU without AVX512-BF16, as oneDNN sees it when capped by ONEDNN_MAX_CPU_ISA: create() refuses in one line. */
    @Test
    void createRefusesWhenOneDnnIsCappedBelowBf16() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xlog:disable", "-cp", System.getProperty("java.class.path"), CreateProbe.class.getName());
        pb.environment().put("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes()).lines()
                .filter(l -> l.startsWith("created") || l.startsWith("refused")).findFirst().orElse("(no answer)");
        assertEquals(0, p.waitFor());
        if (backend != null)
            assertEquals("refused: oneDNN 3.11.0 (OpenMP) found the CPU without AVX512-BF16 or AMX (ISA avx512_core_vnni);"
                    + " bf16 matmul would not beat the Java kernels", out);
        else
            assertTrue(out.startsWith("refused: "), out);
    }

    @Test
    void selectedByNameThroughAComputeContext() {
        if (backend == null) {
            OvisException e = assertThrows(OvisException.class, () -> ComputeContext.create("onednn", false));
            assertTrue(e.getMessage().startsWith("backend onednn is not available: "), e.getMessage());
            return;
        }
        ComputeContext onednn = ComputeContext.create("onednn", false), auto = ComputeContext.create("auto", false);
        assertEquals("onednn", onednn.backend().name());
        assertSame(onednn.backend(), auto.backend(), "one process-wide instance of the native backend");
        assertSame(onednn.backend().attention(), onednn.attention());
        // An exact float32 context beside it keeps the Java kernels: neither changes the other.
        ComputeContext exact = ComputeContext.create("auto", true);
        assertEquals("java", exact.backend().name());
        assertEquals("onednn", onednn.backend().name());
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() - 0.5);
        return a;
    }

    private static Tensor weight(float[] w, int n, int k, DType type, Arena arena) {
        Tensor t = Tensor.ofFloats("w", new long[] {n, k}, w, arena);
        return type == DType.F32 ? t : t.convert(type, arena);
    }

    @Test
    void bf16MatchesDoubleLoopOnOddShapes() {
        assumeTrue(backend != null, "backend unavailable; createSucceeds... asserts why");
        SplittableRandom rnd = new SplittableRandom(7);
        try (Arena arena = Arena.ofShared()) {
            for (int m : new int[] {1, 7, 33, 300})
                for (int k : new int[] {7, 64, 300})
                    for (int n : new int[] {1, 33, 129}) {
                        float[] w = random(rnd, n * k);
                        DType type = (m + k + n) % 3 == 0 ? DType.F32 : (m + k + n) % 3 == 1 ? DType.BF16 : DType.F16;
                        Tensor t = weight(w, n, k, type, arena);
                        float[] wq = t.toFloats(); // the stored weights (bf16/f16 already rounded)
                        MatmulBackend.Prepared p = backend.prepareBf16(t);
                        assertEquals(k, p.in());
                        assertEquals(n, p.out());
                        float[] x = random(rnd, m * k);
                        float[] bias = (m + n) % 2 == 0 ? random(rnd, n) : null;
                        float[] y = new float[m * n];
                        p.multiply(x, 0, k, m, bias, y, n, 0, false);
                        compareBf16(x, 0, k, wq, k, m, n, bias, null, y, n, 0, "m=" + m + " k=" + k + " n=" + n + " " + type);
                    }
        }
    }

    @Test
    void f32WeightsKeepFloat32Arithmetic() {
        assumeTrue(anyCpu != null, "oneDNN does not load here");
        SplittableRandom rnd = new SplittableRandom(9);
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : new int[][] {{1, 7, 33}, {33, 300, 129}, {300, 64, 1}}) {
                int m = s[0], k = s[1], n = s[2];
                float[] w = random(rnd, n * k);
                MatmulBackend.Prepared p = anyCpu.prepare(weight(w, n, k, DType.F32, arena));
                float[] x = random(rnd, m * k), bias = random(rnd, n), y = new float[m * n];
                p.multiply(x, 0, k, m, bias, y, n, 0, false);
                // float32 products and sums: at most (K + 2)·2^-24 relative to Σ|x w| + |b|; far below bf16's 2^-7.
                for (int r = 0; r < m; r++)
                    for (int j = 0; j < n; j++) {
                        double e = bias[j], abs = Math.abs(bias[j]);
                        for (int kk = 0; kk < k; kk++) {
                            e += (double) x[r * k + kk] * w[j * k + kk];
                            abs += Math.abs((double) x[r * k + kk] * w[j * k + kk]);
                        }
                        double tol = (k + 2) * 0x1p-24 * abs + 1e-7;
                        assertTrue(Math.abs(y[r * n + j] - e) <= tol, "f32 y[" + r + "," + j + "] = " + y[r * n + j] + " vs " + e + " ± " + tol);
                    }
            }
        }
    }

    @Test
    void bf16HonoursOffsetsStridesBiasAndAccumulate() {
        assumeTrue(backend != null, "backend unavailable");
        SplittableRandom rnd = new SplittableRandom(11);
        int m = 33, k = 64, n = 129, ldx = 80, xOff = 5, ldy = 200, yOff = 17;
        try (Arena arena = Arena.ofShared()) {
            float[] w = random(rnd, n * k);
            Tensor t = weight(w, n, k, DType.BF16, arena);
            float[] wq = t.toFloats();
            MatmulBackend.Prepared p = backend.prepare(t);
            float[] x = random(rnd, xOff + m * ldx);
            float[] bias = random(rnd, n);
            float[] y0 = random(rnd, (m - 1) * ldy + yOff + n + 3);
            // bias, strided
            float[] y = y0.clone();
            p.multiply(x, xOff, ldx, m, bias, y, ldy, yOff, false);
            compareBf16(x, xOff, ldx, wq, k, m, n, bias, null, y, ldy, yOff, "strided+bias");
            untouched(y0, y, m, n, ldy, yOff);
            // accumulate: y += x·Wᵀ, bias ignored
            y = y0.clone();
            p.multiply(x, xOff, ldx, m, bias, y, ldy, yOff, true);
            compareBf16(x, xOff, ldx, wq, k, m, n, null, y0, y, ldy, yOff, "accumulate");
            untouched(y0, y, m, n, ldy, yOff);
        }
    }

    @Test
    void bf16FromForEachTasksUsesOneThreadAndAgrees() {
        assumeTrue(backend != null, "backend unavailable");
        SplittableRandom rnd = new SplittableRandom(3);
        int m = 48, k = 96, n = 80, parts = 8;
        try (Arena arena = Arena.ofShared()) {
            Tensor t = weight(random(rnd, n * k), n, k, DType.BF16, arena);
            float[] wq = t.toFloats();
            MatmulBackend.Prepared p = backend.prepare(t);
            float[] x = random(rnd, parts * m * k);
            float[] y = new float[parts * m * n];
            Parallel.forEach(parts, i -> p.multiply(x, i * m * k, k, m, null, y, n, i * m * n, false));
            compareBf16(x, 0, k, wq, k, parts * m, n, null, null, y, n, 0, "concurrent");
            // inside forEach tasks oneDNN gets one thread; from this (outer) thread all of them
            assertEquals(java.util.Set.of(1), backend.cachedThreads(m, k, n));
            p.multiply(x, 0, k, m, null, y, n, 0, false);
            assertTrue(backend.cachedThreads(m, k, n).contains(Parallel.threads()));
        }
    }

    private static void untouched(float[] before, float[] after, int m, int n, int ldy, int yOff) {
        for (int i = 0; i < after.length; i++) {
            int r = (i - yOff) / ldy, c = (i - yOff) - r * ldy;
            boolean inside = i >= yOff && r < m && c >= 0 && c < n;
            if (!inside) assertEquals(before[i], after[i], "y[" + i + "] outside the output was written");
        }
    }

    private static void compareBf16(float[] x, int xOff, int ldx, float[] w, int k, int m, int n, float[] bias, float[] base,
                                    float[] y, int ldy, int yOff, String what) {
        for (int r = 0; r < m; r++)
            for (int j = 0; j < n; j++) {
                double s = 0, abs = 0;
                for (int kk = 0; kk < k; kk++) {
                    double p = (double) x[xOff + r * ldx + kk] * w[j * k + kk];
                    s += p;
                    abs += Math.abs(p);
                }
                double expect = s + (base != null ? base[r * ldy + yOff + j] : bias != null ? bias[j] : 0);
                double tol = (2 * U + U * U + k * 0x1p-24) * abs + 1e-6 + (base != null || bias != null ? 0x1p-23 * Math.abs(expect) : 0);
                double got = y[r * ldy + yOff + j];
                if (!(Math.abs(got - expect) <= tol))
                    fail(what + ": y[" + r + "," + j + "] = " + got + ", expected " + expect + " ± " + tol);
            }
    }

    @Test
    void int8MatchesDoubleLoopWithinTheQuantizationStep() {
        assumeTrue(backend != null, "backend unavailable");
        SplittableRandom rnd = new SplittableRandom(5);
        try (Arena arena = Arena.ofShared()) {
            for (int m : new int[] {1, 7, 33, 300})
                for (int k : new int[] {7, 64, 300})
                    for (int n : new int[] {1, 33, 129}) {
                        float[] w = random(rnd, n * k);
                        Tensor t = weight(w, n, k, m % 2 == 0 ? DType.BF16 : DType.F32, arena);
                        float[] wq = t.toFloats();
                        MatmulBackend.Prepared p = backend.prepareInt8(t);
                        float[] x = random(rnd, m * k);
                        float[] bias = n % 2 == 1 ? random(rnd, n) : null;
                        float[] y = new float[m * n];
                        p.multiply(x, 0, k, m, bias, y, n, 0, false);
                        compareInt8(x, 0, k, wq, k, m, n, bias, null, y, n, 0, "m=" + m + " k=" + k + " n=" + n);
                    }
            // offsets, strides, accumulate
            int m = 33, k = 64, n = 129, ldx = 70, xOff = 3, ldy = 140, yOff = 9;
            Tensor t = weight(random(rnd, n * k), n, k, DType.F32, arena);
            float[] wq = t.toFloats();
            MatmulBackend.Prepared p = backend.prepareInt8(t);
            float[] x = random(rnd, xOff + m * ldx);
            float[] bias = random(rnd, n);
            float[] y0 = random(rnd, (m - 1) * ldy + yOff + n);
            float[] y = y0.clone();
            p.multiply(x, xOff, ldx, m, bias, y, ldy, yOff, false);
            compareInt8(x, xOff, ldx, wq, k, m, n, bias, null, y, ldy, yOff, "int8 strided+bias");
            untouched(y0, y, m, n, ldy, yOff);
            y = y0.clone();
            p.multiply(x, xOff, ldx, m, bias, y, ldy, yOff, true);
            compareInt8(x, xOff, ldx, wq, k, m, n, null, y0, y, ldy, yOff, "int8 accumulate");
        }
    }

    @Test
    void int8ZeroRowsGiveBias() {
        assumeTrue(backend != null, "backend unavailable");
        try (Arena arena = Arena.ofShared()) {
            int k = 16, n = 5;
            MatmulBackend.Prepared p = backend.prepareInt8(weight(random(new SplittableRandom(1), n * k), n, k, DType.F32, arena));
            float[] bias = {1, 2, 3, 4, 5};
            float[] y = new float[2 * n];
            p.multiply(new float[2 * k], 0, k, 2, bias, y, n, 0, false);
            for (int i = 0; i < y.length; i++) assertEquals(bias[i % n], y[i]);
        }
    }

    private static void compareInt8(float[] x, int xOff, int ldx, float[] w, int k, int m, int n, float[] bias, float[] base,
                                    float[] y, int ldy, int yOff, String what) {
        double[] sw = new double[n], w2 = new double[n];
        for (int j = 0; j < n; j++) {
            double mx = 0;
            for (int kk = 0; kk < k; kk++) {
                mx = Math.max(mx, Math.abs(w[j * k + kk]));
                w2[j] += (double) w[j * k + kk] * w[j * k + kk];
            }
            sw[j] = mx / 127;
        }
        for (int r = 0; r < m; r++) {
            double mx = 0, x2 = 0;
            for (int kk = 0; kk < k; kk++) {
                double v = x[xOff + r * ldx + kk];
                mx = Math.max(mx, Math.abs(v));
                x2 += v * v;
            }
            double sx = mx / 127;
            for (int j = 0; j < n; j++) {
                double s = 0, worst = 0;
                for (int kk = 0; kk < k; kk++) {
                    double xv = x[xOff + r * ldx + kk], wv = w[j * k + kk];
                    s += xv * wv;
                    worst += sx / 2 * Math.abs(wv) + sw[j] / 2 * Math.abs(xv) + sx * sw[j] / 4;
                }
                double expect = s + (base != null ? base[r * ldy + yOff + j] : bias != null ? bias[j] : 0);
                double sigma = Math.sqrt(sx * sx / 12 * w2[j] + sw[j] * sw[j] / 12 * x2);
                double tol = Math.min(6 * sigma + k * sx * sw[j] / 4, worst) + 1e-5 + 1e-6 * Math.abs(expect);
                double got = y[r * ldy + yOff + j];
                if (!(Math.abs(got - expect) <= tol))
                    fail(what + ": y[" + r + "," + j + "] = " + got + ", expected " + expect + " ± " + tol + " (σ " + sigma + ")");
            }
        }
    }
}
