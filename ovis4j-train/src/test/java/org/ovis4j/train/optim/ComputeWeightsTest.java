package org.ovis4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

class ComputeWeightsTest {
    private static Parameters model() {
        Random r = new Random(1);
        Parameters ps = new Parameters();
        float[] w = new float[129];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        ps.add(Parameter.trainable("w", new long[] {129}, w));
        ps.add(Parameter.frozen("base", new long[] {3}, new float[] {1.00390625f, 3.14159f, -2.7182817f}));
        for (int i = 0; i < 129; i++) ps.get("w").grad()[i] = (float) r.nextGaussian();
        return ps;
    }

    @Test
    void f32ReadsTheMastersThemselves() {
        Parameters ps = model();
        ComputeWeights cw = ComputeWeights.of(ps, DType.F32);
        assertSame(ps.get("w").value(), cw.of(ps.get("w")));
        assertSame(ps.get("base").value(), cw.of(ps.get("base")));
    }

    /** bf16 copies: round to nearest even of the current masters; masters keep the small updates. */
    @Test
    void bf16CopiesFollowTheMastersAfterRefresh() {
        Parameters ps = model();
        ComputeWeights cw = ComputeWeights.of(ps, DType.BF16);
        Parameter w = ps.get("w");
        float[] c = cw.of(w);
        for (int i = 0; i < w.size(); i++) {
            float m = w.value()[i];
            // bf16 keeps 8 significant bits: the rounded value is within half its ulp (2^-8 relative) ...
            assertEquals(m, c[i], Math.ulp(m) * 65536 / 2 * 1.0000001, "w[" + i + "]");
            // ... and is a bf16 value: its low 16 bits are zero
            assertEquals(0, Float.floatToRawIntBits(c[i]) & 0xFFFF);
        }
        // 1 + 2^-8 lies exactly between two bf16 values (1 and 1 + 2^-7): ties go to the even one, 1
        assertEquals(1f, cw.of(ps.get("base"))[0]);
        assertEquals(3.140625f, cw.of(ps.get("base"))[1]);

        float[] before = c.clone();
        new AdamW(ps, new AdamW.Hyperparameters(1e-4, 0.9, 0.999, 1e-8, 0)).step();
        assertEquals(before[5], cw.of(w)[5], "stale until refreshed");
        cw.refresh();
        int changed = 0;
        for (int i = 0; i < w.size(); i++) {
            assertEquals(org.ovis4j.core.tensor.Floats.roundToBf16(w.value()[i]), cw.of(w)[i]);
            if (cw.of(w)[i] != before[i]) changed++;
        }
        assertNotEquals(0, changed);
        assertNotEquals(w.size(), changed, "a first step moves every master by 1e-4, below half a bf16 ulp for |w| > 2^-4: most copies stay");
    }

    @Test
    void rejectsOtherDtypes() {
        AdamWTest.assertMessage(() -> ComputeWeights.of(model(), DType.F16), "must be f32 or bf16");
    }
}
