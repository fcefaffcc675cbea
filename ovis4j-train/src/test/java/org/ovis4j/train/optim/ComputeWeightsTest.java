package org.ovis4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.kernel.Bf16Gemm;
import org.ovis4j.core.tensor.Floats;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

class ComputeWeightsTest {
    private static Parameters model() {
        Random r = new Random(1);
        Parameters ps = new Parameters();
        float[] w = new float[7 * 33];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        ps.add(Parameter.trainable("w", new long[] {7, 33}, w));
        ps.add(Parameter.frozen("base", new long[] {1, 3}, new float[] {1.00390625f, 3.14159f, -2.7182817f}));
        ps.add(Parameter.trainable("norm", new long[] {33}, new float[33]));
        for (int i = 0; i < w.length; i++) ps.get("w").grad()[i] = (float) r.nextGaussian();
        return ps;
    }

    /** The values of a bf16 copy [rows, cols], read back through the products: I·copyᵀ (each product 1·w is exact). */
    private static float[] values(Bf16Gemm g, Bf16Gemm.Matrix m) {
        int rows = m.rows(), cols = m.cols();
        float[] eye = new float[cols * cols], out = new float[cols * rows];
        for (int i = 0; i < cols; i++) eye[i * cols + i] = 1;
        g.multiply(cols, rows, cols, eye, 0, cols, false, m, true, null, out, 0, rows, false);
        float[] v = new float[rows * cols];
        for (int i = 0; i < cols; i++)
            for (int o = 0; o < rows; o++) v[o * cols + i] = out[i * rows + o];
        return v;
    }

    @Test
    void fp32HoldsNothingAndReadsTheMasters() {
        Parameters ps = model();
        assertNull(ComputeWeights.FP32.register(ps.get("w")));
        assertEquals(ComputePrecision.FP32, ComputeWeights.FP32.precision());
        assertSame(ComputeWeights.FP32, ComputeWeights.of(ComputePrecision.FP32, s -> { throw new AssertionError(s); }));
        ComputeWeights.FP32.refresh();
        assertEquals(0, ComputeWeights.FP32.registered().size());
    }

    /** bf16 copies: round to nearest even of the current masters; masters keep the small updates; stale until refresh(). */
    @Test
    void bf16CopiesFollowTheMastersAfterRefresh() {
        ComputeWeights cw = ComputeWeights.of(ComputePrecision.BF16, s -> {});
        assumeTrue(cw.precision() == ComputePrecision.BF16, "no bf16 matmul here (Bf16ComputeTest checks the fallback)");
        Parameters ps = model();
        Parameter w = ps.get("w");
        Bf16Gemm.Matrix c = cw.register(w);
        assertSame(c, cw.register(w), "one copy per weight");
        assertThrows(IllegalArgumentException.class, () -> cw.register(ps.get("norm")), "a linear weight is 2-D");
        float[] v = values(cw.gemm(), c);
        for (int i = 0; i < w.size(); i++) {
            float m = w.value()[i];
            assertEquals(Floats.roundToBf16(m), v[i], "w[" + i + "]");
            // bf16 keeps 8 significant bits: within half its ulp (2^-8 relative) of the master, low 16 bits zero
            assertEquals(m, v[i], Math.ulp(m) * 65536 / 2 * 1.0000001, "w[" + i + "]");
            assertEquals(0, Float.floatToRawIntBits(v[i]) & 0xFFFF);
        }
        // 1 + 2^-8 lies exactly between two bf16 values (1 and 1 + 2^-7): ties go to the even one, 1
        float[] base = values(cw.gemm(), cw.register(ps.get("base")));
        assertEquals(1f, base[0]);
        assertEquals(3.140625f, base[1]);

        float[] before = v.clone();
        new AdamW(ps, new AdamW.Hyperparameters(1e-4, 0.9, 0.999, 1e-8, 0)).step();
        assertEquals(before[5], values(cw.gemm(), c)[5], "stale until refreshed");
        cw.refresh();
        float[] after = values(cw.gemm(), c);
        int changed = 0;
        for (int i = 0; i < w.size(); i++) {
            assertEquals(Floats.roundToBf16(w.value()[i]), after[i]);
            if (after[i] != before[i]) changed++;
        }
        assertNotEquals(0, changed);
        assertNotEquals(w.size(), changed, "a first step moves every master by 1e-4, below half a bf16 ulp for |w| > 2^-4: most copies stay");
        assertEquals(2, cw.registered().size());
    }

    @Test
    void precisionNames() {
        assertEquals(ComputePrecision.BF16, ComputePrecision.parse(" BF16"));
        assertEquals("fp32", ComputePrecision.FP32.configName());
        AdamWTest.assertMessage(() -> ComputePrecision.parse("f16"), "compute precision must be fp32 or bf16, got \"f16\"");
    }
}
