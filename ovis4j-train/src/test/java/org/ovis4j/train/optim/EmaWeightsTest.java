package org.ovis4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

class EmaWeightsTest {
    @TempDir
    Path dir;

    private static Parameters model(long seed) {
        Random r = new Random(seed);
        Parameters ps = new Parameters();
        for (int n : new int[] {1, 7, 33}) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
            ps.add(Parameter.trainable("w" + n, new long[] {n}, v));
        }
        return ps;
    }

    private static void perturb(Parameters ps, Random r) {
        for (Parameter p : ps.trainable()) for (int i = 0; i < p.size(); i++) p.value()[i] += (float) (r.nextGaussian() * 0.1);
    }

    /** diffusers' EMAModel.get_decay, by hand: 0, then (1 + s)/(10 + s) with s = t − 1, capped at decay. */
    @Test
    void diffusersDecaySchedule() {
        EmaWeights ema = new EmaWeights(model(1), EmaWeights.Options.diffusers(0.5));
        assertEquals(0.0, ema.decay(1));
        assertEquals(2.0 / 11, ema.decay(2));
        assertEquals(3.0 / 12, ema.decay(3));
        assertEquals(0.5, ema.decay(9)); // (1 + 8)/(10 + 8) = 0.5
        assertEquals(0.5, ema.decay(1000));
        EmaWeights late = new EmaWeights(model(1), new EmaWeights.Options(EmaWeights.Schedule.DIFFUSERS, 0.999, 0.1, 5));
        assertEquals(0.0, late.decay(6)); // s = 6 − 5 − 1 = 0
        assertEquals(0.18181818181818182, late.decay(7)); // s = 1: 2/11
        EmaWeights floored = new EmaWeights(model(1), new EmaWeights.Options(EmaWeights.Schedule.DIFFUSERS, 0.999, 0.3, 0));
        assertEquals(0.3, floored.decay(2), "min_decay is a floor under 2/11");
        assertEquals(0.0, floored.decay(1), "but the first update still copies the weights");
    }

    /** The fixed-decay average after several updates equals its definition evaluated in double. */
    @Test
    void fixedDecayFollowsDefinition() {
        Parameters ps = model(2);
        EmaWeights ema = new EmaWeights(ps, EmaWeights.Options.fixed(0.9));
        int n = ps.count();
        double[][] ref = new double[n][];
        for (int k = 0; k < n; k++) ref[k] = toDouble(ps.trainable().get(k).value());
        Random r = new Random(4);
        for (int t = 1; t <= 6; t++) {
            perturb(ps, r);
            ema.update();
            for (int k = 0; k < n; k++) {
                float[] p = ps.trainable().get(k).value();
                for (int i = 0; i < p.length; i++) ref[k][i] = 0.9 * ref[k][i] + 0.1 * p[i];
            }
        }
        assertEquals(6, ema.updates());
        // each update rounds three times (difference, product, subtraction) at the scale of the weights (|w| < 5):
        // after 6 updates the float32 average is within 6·3·2^-24·5 of the double one
        double tol = 6 * 3 * 0x1p-24 * 5;
        for (int k = 0; k < n; k++) {
            Parameter p = ps.trainable().get(k);
            float[] s = ema.shadow(p.name());
            for (int i = 0; i < s.length; i++) assertEquals(ref[k][i], s[i], tol, p.name() + "[" + i + "]");
        }
    }

    /** torch's float32 order of operations: shadow − fl((1 − d)·fl(shadow − param)). */
    @Test
    void updateRoundsLikeTorch() {
        Parameters ps = new Parameters();
        ps.add(Parameter.trainable("w", new long[] {1}, new float[] {1f}));
        EmaWeights ema = new EmaWeights(ps, EmaWeights.Options.fixed(0.999));
        ps.get("w").value()[0] = 1.3f;
        ema.update();
        float oneMinusDecay = (float) (1 - 0.999);
        assertEquals(1f - oneMinusDecay * (1f - 1.3f), ema.shadow("w")[0], 0f);
    }

    @Test
    void stateRoundTripIsBitIdentical() {
        Parameters ps = model(3);
        EmaWeights ema = new EmaWeights(ps, EmaWeights.Options.diffusers(0.99));
        Random r = new Random(8);
        for (int t = 0; t < 4; t++) {
            perturb(ps, r);
            ema.update();
        }
        Path f = dir.resolve("ema.safetensors");
        ema.write(f);
        EmaWeights back = new EmaWeights(model(99), EmaWeights.Options.diffusers(0.99));
        back.read(f);
        assertEquals(4, back.updates());
        for (Parameter p : ps.trainable()) AdamWGoldenTest.assertBits(p.name(), ema.shadow(p.name()), back.shadow(p.name()));
        AdamWTest.assertMessage(() -> new AdamW(ps, AdamW.Hyperparameters.torchDefaults()).read(f), "not an ovis4j-adamw state file");
    }

    private static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }
}
