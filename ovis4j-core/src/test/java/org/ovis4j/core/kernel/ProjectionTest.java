package org.ovis4j.core.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/** Dense and LoRA projections against naive loops in double precision, and the context's rules. */
class ProjectionTest {
    private static final int[] SIZES = {1, 7, 33, 129};

    /** y = b + W·x + scale·B(A·x) per row, in double. */
    static double[] naive(float[] x, int rows, int in, int out, float[] w, float[] bias, float[] a, float[] b, int rank, float scale) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            double[] t = new double[rank];
            for (int j = 0; j < rank; j++)
                for (int k = 0; k < in; k++) t[j] += (double) a[j * in + k] * x[r * in + k];
            for (int n = 0; n < out; n++) {
                double s = bias == null ? 0 : bias[n];
                for (int k = 0; k < in; k++) s += (double) w[n * in + k] * x[r * in + k];
                double u = 0;
                for (int j = 0; j < rank; j++) u += (double) b[n * rank + j] * t[j];
                y[r * out + n] = s + scale * u;
            }
        }
        return y;
    }

    /**
     * float32 accumulation over in (base) and in then rank (adapter) products of unit normals: the
     * error grows like sqrt(terms)·ulp of the partial sums (as in GemmTest).
     */
    static void check(String what, double[] expected, float[] actual, int terms) {
        double tol = 4e-5 * Math.sqrt(terms);
        for (int i = 0; i < expected.length; i++)
            assertEquals(expected[i], actual[i], tol * (1 + Math.abs(expected[i])), what + " element " + i);
    }

    @Test
    void loraMatchesNaiveForOddSizes() {
        Random rnd = new Random(11);
        try (Arena arena = Arena.ofShared()) {
            for (int rows : SIZES)
                for (int in : SIZES)
                    for (int out : SIZES)
                        for (int rank : new int[] {1, 7, 16})
                            for (DType dt : new DType[] {DType.F32, DType.BF16}) {
                                float[] x = GemmTest.random(rnd, rows * in), w = GemmTest.random(rnd, out * in);
                                float[] bias = GemmTest.random(rnd, out);
                                float[] a = GemmTest.random(rnd, rank * in), b = GemmTest.random(rnd, out * rank);
                                float scale = (float) (rnd.nextDouble() * 2 - 0.5);
                                Tensor wt = Tensor.ofFloats("w", new long[] {out, in}, w, arena).convert(dt, arena);
                                Projection base = ComputeContext.JAVA.projection(wt, Tensor.ofFloats("b", new long[] {out}, bias, arena));
                                LoraProjection lora = new LoraProjection(base, a, b, rank, scale);
                                String what = rows + "x" + in + "->" + out + " rank " + rank + " " + dt;
                                check(what, naive(x, rows, in, out, wt.toFloats(), bias, a, b, rank, scale), lora.apply(x, rows), in + rank);
                            }
        }
    }

    @Test
    void stridedAndAccumulatingFormsMatchNaive() {
        Random rnd = new Random(12);
        int rows = 7, in = 33, out = 129, rank = 7, ldx = 40, xOff = 5, ldy = 140, yOff = 3;
        try (Arena arena = Arena.ofShared()) {
            float[] w = GemmTest.random(rnd, out * in), bias = GemmTest.random(rnd, out);
            float[] a = GemmTest.random(rnd, rank * in), b = GemmTest.random(rnd, out * rank);
            Projection base = ComputeContext.JAVA.projection(Tensor.ofFloats("w", new long[] {out, in}, w, arena),
                    Tensor.ofFloats("b", new long[] {out}, bias, arena));
            Projection lora = new LoraProjection(base, a, b, rank, 0.75f);
            float[] xs = GemmTest.random(rnd, xOff + rows * ldx), x = new float[rows * in];
            for (int r = 0; r < rows; r++) System.arraycopy(xs, xOff + r * ldx, x, r * in, in);
            for (Projection p : List.of(base, lora)) {
                float scale = p == base ? 0f : 0.75f;
                double[] expected = naive(x, rows, in, out, w, bias, a, b, rank, scale);
                float[] y = new float[yOff + rows * ldy], prior = GemmTest.random(rnd, y.length), acc = prior.clone();
                p.forward(xs, xOff, ldx, rows, y, yOff, ldy);
                p.forwardAdd(xs, xOff, ldx, rows, acc, yOff, ldy);
                for (int r = 0; r < rows; r++)
                    for (int n = 0; n < out; n++) {
                        int at = yOff + r * ldy + n;
                        double tol = 4e-5 * Math.sqrt(in + rank) * (1 + Math.abs(expected[r * out + n]));
                        assertEquals(expected[r * out + n], y[at], tol, "forward " + r + "," + n);
                        assertEquals(prior[at] + expected[r * out + n], acc[at], tol * 2, "forwardAdd " + r + "," + n);
                    }
                for (int i = 0; i < yOff; i++) assertEquals(0f, y[i], "columns before yOff untouched");
                for (int r = 0; r < rows; r++)
                    for (int c = yOff + out; c < ldy && r * ldy + c < y.length; c++)
                        assertEquals(prior[r * ldy + c], acc[r * ldy + c], "columns past out untouched");
            }
        }
    }

    @Test
    void adaptersShareTheirBaseAndStack() {
        Random rnd = new Random(13);
        int rows = 33, in = 7, out = 33, r1 = 1, r2 = 16;
        try (Arena arena = Arena.ofShared()) {
            float[] x = GemmTest.random(rnd, rows * in), w = GemmTest.random(rnd, out * in), bias = GemmTest.random(rnd, out);
            float[] a1 = GemmTest.random(rnd, r1 * in), b1 = GemmTest.random(rnd, out * r1);
            float[] a2 = GemmTest.random(rnd, r2 * in), b2 = GemmTest.random(rnd, out * r2);
            Projection base = ComputeContext.JAVA.projection(Tensor.ofFloats("w", new long[] {out, in}, w, arena),
                    Tensor.ofFloats("b", new long[] {out}, bias, arena));
            LoraProjection half = new LoraProjection(base, a1, b1, r1, 0.5f), twice = new LoraProjection(base, a1, b1, r1, 2f);
            assertSame(half.base(), twice.base());
            float[] h = half.apply(x, rows), t = twice.apply(x, rows), y = base.apply(x, rows);
            // the update scales linearly: (twice - base) = 4 (half - base), up to rounding of each
            for (int i = 0; i < y.length; i++) assertEquals(4 * (h[i] - y[i]), t[i] - y[i], 1e-4 * (1 + Math.abs(t[i] - y[i])), "element " + i);
            // Two adapters on one base: y = base + s1·B1A1x + s2·B2A2x.
            Projection stacked = new LoraProjection(new LoraProjection(base, a1, b1, r1, 0.5f), a2, b2, r2, -1.5f);
            double[] e1 = naive(x, rows, in, out, w, bias, a1, b1, r1, 0.5f), e2 = naive(x, rows, in, out, w, null, a2, b2, r2, -1.5f);
            double[] both = new double[e1.length];
            double[] baseOnly = naive(x, rows, in, out, w, null, a2, b2, r2, 0f);
            for (int i = 0; i < both.length; i++) both[i] = e1[i] + e2[i] - baseOnly[i];
            check("stacked", both, stacked.apply(x, rows), in + r1 + r2);
        }
    }

    @Test
    void zeroScaleAdapterIsBitIdenticalToItsBase() {
        Random rnd = new Random(14);
        int rows = 129, in = 33, out = 7, rank = 7;
        try (Arena arena = Arena.ofShared()) {
            float[] x = GemmTest.random(rnd, rows * in);
            Tensor w = Tensor.ofFloats("w", new long[] {out, in}, GemmTest.random(rnd, out * in), arena).convert(DType.BF16, arena);
            Projection base = ComputeContext.JAVA.projection(w, Tensor.ofFloats("b", new long[] {out}, GemmTest.random(rnd, out), arena));
            Projection zero = new LoraProjection(base, GemmTest.random(rnd, rank * in), GemmTest.random(rnd, out * rank), rank, 0f);
            assertArrayEquals(base.apply(x, rows), zero.apply(x, rows));
        }
    }

    @Test
    void loraShapesAreCheckedWhenBuilt() {
        try (Arena arena = Arena.ofShared()) {
            Projection base = ComputeContext.JAVA.projection(Tensor.ofFloats("w", new long[] {3, 4}, new float[12], arena), null);
            OvisException e = assertThrows(OvisException.class, () -> new LoraProjection(base, new float[8], new float[5], 2, 1f));
            assertEquals("lora: B has 5 values, expected out 3 x rank 2", e.getMessage());
            e = assertThrows(OvisException.class, () -> new LoraProjection(base, new float[7], new float[6], 2, 1f));
            assertEquals("lora: A has 7 values, expected rank 2 x in 4", e.getMessage());
        }
    }

    @Test
    void contextRules() {
        ComputeContext exact = ComputeContext.create("auto", true);
        assertEquals("java", exact.backend().name());
        assertSame(Attention.JAVA, exact.attention());
        assertTrue(exact.exactFloat32());
        OvisException e = assertThrows(OvisException.class, () -> ComputeContext.create("onednn", true));
        assertEquals("backend onednn rounds activations to bf16; float32 precision needs the java backend", e.getMessage());
        e = assertThrows(OvisException.class, () -> ComputeContext.create("cuda", false));
        assertEquals("unknown backend \"cuda\" (expected auto, java or onednn)", e.getMessage());
        // The core alone has no native backend: auto is java, silently (nothing is missing that was asked for).
        List<String> notices = new ArrayList<>();
        ComputeContext auto = ComputeContext.create("auto", false, notices::add);
        assertEquals("java", auto.backend().name());
        assertEquals(List.of(), notices);
        e = assertThrows(OvisException.class, () -> ComputeContext.create("onednn", false));
        assertEquals("backend onednn is not available: not on the class path", e.getMessage());
    }

    @Test
    void int8IsRefusedWhenTheLayerIsBuiltWithoutAnInt8Backend() {
        try (Arena arena = Arena.ofShared()) {
            Tensor w = Tensor.ofFloats("w", new long[] {2, 2}, new float[4], arena);
            OvisException e = assertThrows(OvisException.class,
                    () -> ComputeContext.JAVA.projection(w, null, DenseProjection.Storage.INT8));
            assertEquals("int8 needs a backend with an int8 matmul (onednn on a CPU with AMX or VNNI); java has none", e.getMessage());
        }
    }
}
