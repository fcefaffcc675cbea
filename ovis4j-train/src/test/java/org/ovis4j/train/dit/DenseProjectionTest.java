package org.ovis4j.train.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.ovis4j.train.testing.GradCheck.random;

import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.train.param.Parameter;

/**
 * A frozen projection over a stored checkpoint tensor (used in place) against the same projection over
 * float32 values: with a float32 tensor both are the same product bit for bit, forward and dX (plain,
 * accumulating, and in strided column blocks of wider buffers), for odd sizes and for more rows than the
 * GEMM's row block (the weight then packed once per call); with a bf16 tensor they are bit-identical to
 * the float32 path over the widened bf16 values, and within bf16 rounding of the float32 originals.
 */
class DenseProjectionTest {
    private static final int[] ROWS = {1, 7, 33, 129, 200};
    private static final int[] WIDTHS = {1, 7, 33, 129};

    @Test
    void storedFloat32WeightGivesTheFloat32PathsBits() {
        Random r = new Random(41);
        try (Arena arena = Arena.ofShared()) {
            for (int rows : ROWS)
                for (int in : WIDTHS)
                    for (int out : WIDTHS) {
                        float[] w = random(r, out * in), b = random(r, out);
                        Tensor t = Tensor.ofFloats("w", new long[] {out, in}, w, arena);
                        DenseProjection stored = new DenseProjection("m", Parameter.stored("m.weight", t), Parameter.frozen("m.bias", new long[] {out}, b));
                        DenseProjection dense = new DenseProjection("m", Parameter.frozen("m.weight", new long[] {out, in}, w.clone()),
                                Parameter.frozen("m.bias", new long[] {out}, b));
                        compareBits(r, stored, dense, rows, in, out, rows + "x" + in + "x" + out);
                    }
        }
    }

    @Test
    void storedBf16WeightIsTheFloat32PathOverItsWidenedValuesAndWithinBf16RoundingOfTheOriginals() {
        Random r = new Random(42);
        try (Arena arena = Arena.ofShared()) {
            for (int rows : ROWS)
                for (int in : WIDTHS)
                    for (int out : WIDTHS) {
                        String at = rows + "x" + in + "x" + out;
                        float[] w = random(r, out * in), b = random(r, out);
                        Tensor t = Tensor.ofFloats("w", new long[] {out, in}, w, arena).convert(DType.BF16, arena);
                        DenseProjection stored = new DenseProjection("m", Parameter.stored("m.weight", t), Parameter.frozen("m.bias", new long[] {out}, b));
                        DenseProjection widened = new DenseProjection("m", Parameter.frozen("m.weight", new long[] {out, in}, t.toFloats()),
                                Parameter.frozen("m.bias", new long[] {out}, b));
                        compareBits(r, stored, widened, rows, in, out, at);

                        // against the float32 originals: each weight is rounded to nearest with 8 significant bits,
                        // so within 2^-8 of itself (bf16's unit roundoff), |Δy| ≤ 2^-8·Σ|x||w|, plus float32 sums
                        float[] x = random(r, rows * in), y = new float[rows * out];
                        stored.forward(x, rows, y);
                        for (int i = 0; i < rows; i++)
                            for (int o = 0; o < out; o++) {
                                double exact = b[o], mag = Math.abs(b[o]);
                                for (int k = 0; k < in; k++) {
                                    exact += (double) x[i * in + k] * w[o * in + k];
                                    mag += Math.abs((double) x[i * in + k] * w[o * in + k]);
                                }
                                double bound = 0x1p-8 * mag + 1e-6 * Math.sqrt(in) * (1 + mag);
                                assertEquals(exact, y[i * out + o], bound, at + " y at " + i + "," + o);
                            }
                    }
        }
    }

    @Test
    void aStoredWeightIsFrozenAndHasNoFloatCopy() {
        try (Arena arena = Arena.ofShared()) {
            Parameter p = Parameter.stored("m.weight", Tensor.ofFloats("w", new long[] {3, 2}, new float[6], arena).convert(DType.BF16, arena));
            assertNull(p.grad());
            assertEquals(6, p.size());
            assertThrows(IllegalStateException.class, p::value);
        }
    }

    /** Forward into a column block of a wider buffer, and dX written then accumulated into one: the same bits. */
    private static void compareBits(Random r, Projection a, Projection b, int rows, int in, int out, String at) {
        int ldx = in + 3, ldy = out + 2, xOff = 1, yOff = 2;
        float[] x = random(r, xOff + rows * ldx), ya = new float[yOff + rows * ldy], yb = new float[ya.length];
        a.forward(x, xOff, ldx, rows, ya, yOff, ldy);
        b.forward(x, xOff, ldx, rows, yb, yOff, ldy);
        assertArrayEquals(yb, ya, "forward " + at);

        float[] dy = random(r, rows * out), dxa = random(r, xOff + rows * ldx), dxb = dxa.clone();
        a.backward(x, xOff, ldx, rows, dy, 0, out, dxa, xOff, ldx, false);
        b.backward(x, xOff, ldx, rows, dy, 0, out, dxb, xOff, ldx, false);
        assertArrayEquals(dxb, dxa, "dX " + at);
        a.backward(x, xOff, ldx, rows, dy, 0, out, dxa, xOff, ldx, true);
        b.backward(x, xOff, ldx, rows, dy, 0, out, dxb, xOff, ldx, true);
        assertArrayEquals(dxb, dxa, "dX accumulated " + at);
    }
}
