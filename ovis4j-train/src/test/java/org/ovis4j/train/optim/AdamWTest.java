package org.ovis4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

/** AdamW on random data against a double-precision reimplementation of torch's formula, and its state files. */
class AdamWTest {
    @TempDir
    Path dir;

    /** Parameters of the odd sizes kernels are tested with, so that the vector loop and its scalar tail both run. */
    private static Parameters randomModel(long seed) {
        Random r = new Random(seed);
        Parameters ps = new Parameters();
        int[] sizes = {1, 7, 33, 129, 1000};
        for (int k = 0; k < sizes.length; k++) {
            float[] v = new float[sizes[k]];
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 0.1);
            ps.add(Parameter.trainable("p" + k, new long[] {sizes[k]}, v));
        }
        float[] frozen = {1, 2, 3};
        ps.add(Parameter.frozen("frozen", new long[] {3}, frozen));
        return ps;
    }

    /** Gradients over six orders of magnitude, with exact zeros, so eps and the sign-descent regime both matter. */
    private static void randomGradients(Parameters ps, Random r) {
        for (Parameter p : ps.trainable()) {
            float[] g = p.grad();
            for (int i = 0; i < g.length; i++)
                g[i] = i % 17 == 3 ? 0f : (float) (r.nextGaussian() * Math.pow(10, -1 - 6 * r.nextDouble()));
        }
    }

    /**
     * Five steps with fresh gradients and a changing learning rate; after each, the new moments and
     * parameters are compared with torch's formula evaluated in double from the previous float32 state
     * (the exact hyperparameters, no intermediate rounding). Error model: every float32 operation rounds
     * to within 2^-24 of its result and each float32 constant is within 2^-24 of its double; bounds add
     * these up over the operations of each line (moments: ≤ 4 roundings; parameter: ≤ 10), taken relative to
     * the largest magnitude the line involves.
     */
    @Test
    void stepsMatchDoublePrecisionFormula() {
        for (double wd : new double[] {0.01, 0}) {
            Parameters ps = randomModel(11);
            AdamW.Hyperparameters hp = new AdamW.Hyperparameters(2e-3, 0.9, 0.999, 1e-8, wd);
            AdamW opt = new AdamW(ps, hp);
            Random r = new Random(5);
            for (int t = 1; t <= 5; t++) {
                randomGradients(ps, r);
                double lr = hp.lr() * (0.5 + 0.1 * t);
                int n = ps.trainable().size();
                float[][] p0 = new float[n][], m0 = new float[n][], v0 = new float[n][];
                for (int k = 0; k < n; k++) {
                    Parameter p = ps.trainable().get(k);
                    p0[k] = p.value().clone();
                    m0[k] = opt.expAvg(p.name()).clone();
                    v0[k] = opt.expAvgSq(p.name()).clone();
                }
                opt.step(lr);
                assertEquals(t, opt.steps());
                double bc1 = 1 - Math.pow(hp.beta1(), t), bc2 = 1 - Math.pow(hp.beta2(), t);
                double u = 0x1p-24;
                for (int k = 0; k < n; k++) {
                    Parameter p = ps.trainable().get(k);
                    float[] m = opt.expAvg(p.name()), v = opt.expAvgSq(p.name());
                    for (int i = 0; i < p.size(); i++) {
                        double g = p.grad()[i];
                        double mRef = m0[k][i] + (1 - hp.beta1()) * (g - m0[k][i]);
                        check(p.name() + " m[" + i + "] t=" + t, mRef, m[i],
                                4 * u * Math.max(Math.abs(mRef), Math.max(Math.abs(m0[k][i]), (1 - hp.beta1()) * Math.abs(g - m0[k][i]))));
                        double vRef = hp.beta2() * v0[k][i] + (1 - hp.beta2()) * g * g;
                        check(p.name() + " v[" + i + "] t=" + t, vRef, v[i], 4 * u * vRef);
                        // the parameter from the float32 moments just checked (their own error is bounded above)
                        double decayed = p0[k][i] * (1 - lr * wd);
                        double update = -(lr / bc1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + hp.eps());
                        double pRef = decayed + update;
                        check(p.name() + " p[" + i + "] t=" + t, pRef, p.value()[i],
                                10 * u * Math.max(Math.abs(pRef), Math.max(Math.abs(decayed), Math.abs(update))));
                    }
                }
            }
            assertArrayEquals(new float[] {1, 2, 3}, ps.get("frozen").value(), "frozen parameters are not touched");
        }
    }

    private static void check(String what, double expected, float actual, double tol) {
        if (!(Math.abs(actual - expected) <= tol)) fail(String.format("%s: %.9g, expected %.12g (tolerance %.3g)", what, actual, expected, tol));
    }

    /** The vector loop and the scalar tail are one formula: a parameter split at any offset steps identically. */
    @Test
    void vectorLoopAndScalarTailRoundAlike() {
        Random r = new Random(3);
        int n = 133;
        float[] p = new float[n], g = new float[n], m = new float[n], v = new float[n];
        for (int i = 0; i < n; i++) {
            p[i] = (float) r.nextGaussian();
            g[i] = (float) (r.nextGaussian() * 1e-3);
            m[i] = (float) (r.nextGaussian() * 1e-4);
            v[i] = (float) (r.nextDouble() * 1e-6);
        }
        AdamW.StepScalars c = AdamW.StepScalars.of(AdamW.Hyperparameters.torchDefaults(), 1e-3, 3);
        float[] pv = p.clone(), mv = m.clone(), vv = v.clone();
        AdamW.update(pv, g, mv, vv, 0, n, c);
        for (int i = 0; i < n; i++) {
            float[] p1 = {p[i]}, m1 = {m[i]}, v1 = {v[i]};
            AdamW.update(p1, new float[] {g[i]}, m1, v1, 0, 1, c); // one element: scalar path only
            assertEquals(Float.floatToRawIntBits(p1[0]), Float.floatToRawIntBits(pv[i]), "p[" + i + "]");
            assertEquals(Float.floatToRawIntBits(m1[0]), Float.floatToRawIntBits(mv[i]), "m[" + i + "]");
            assertEquals(Float.floatToRawIntBits(v1[0]), Float.floatToRawIntBits(vv[i]), "v[" + i + "]");
        }
    }

    /** torch's scalars for lr 1e-3, betas (0.9, 0.999), wd 0.01 at t = 2, computed by hand. */
    @Test
    void stepScalarsAreTorchs() {
        AdamW.StepScalars c = AdamW.StepScalars.of(AdamW.Hyperparameters.torchDefaults(), 1e-3, 2);
        assertEquals((float) 0.99999, c.decay());
        assertEquals((float) (-1e-3 / 0.19), c.negStepSize(), 0f); // 1 − 0.9² = 0.19
        assertEquals((float) Math.sqrt(1 - 0.998001), c.biasCorrection2Sqrt(), 0f); // 1 − 0.999²
        assertEquals(0.1f, c.oneMinusBeta1());
        assertEquals(0.001f, c.oneMinusBeta2());
        assertEquals(1e-8f, c.eps());
    }

    /** Writing the state and reading it into a fresh optimizer resumes bit-identically. */
    @Test
    void resumeFromStateFileIsBitIdentical() throws Exception {
        AdamW.Hyperparameters hp = AdamW.Hyperparameters.torchDefaults();
        Parameters a = randomModel(2);
        AdamW optA = new AdamW(a, hp);
        Random ra = new Random(9);
        for (int t = 0; t < 3; t++) {
            randomGradients(a, ra);
            optA.step();
        }
        Path state = dir.resolve("optimizer.safetensors");
        optA.write(state);
        assertTrue(Files.isRegularFile(state));
        assertTrue(!Files.exists(dir.resolve("optimizer.safetensors.partial")), "written atomically (no partial left)");

        // a second run: same weights (as a checkpoint would restore them), fresh optimizer, state read back
        Parameters b = randomModel(2);
        for (Parameter p : b.trainable()) System.arraycopy(a.get(p.name()).value(), 0, p.value(), 0, p.size());
        AdamW optB = new AdamW(b, hp);
        optB.read(state);
        assertEquals(3, optB.steps());
        Random rb = new Random(77);
        ra = new Random(77);
        for (int t = 0; t < 2; t++) {
            randomGradients(a, ra);
            randomGradients(b, rb);
            optA.step(5e-4);
            optB.step(5e-4);
        }
        assertEquals(optA.steps(), optB.steps());
        for (Parameter p : a.trainable()) {
            AdamWGoldenTest.assertBits(p.name(), p.value(), b.get(p.name()).value());
            AdamWGoldenTest.assertBits("exp_avg." + p.name(), optA.expAvg(p.name()), optB.expAvg(p.name()));
            AdamWGoldenTest.assertBits("exp_avg_sq." + p.name(), optA.expAvgSq(p.name()), optB.expAvgSq(p.name()));
        }
    }

    @Test
    void stateFileErrorsNameTheProblem() throws Exception {
        AdamW.Hyperparameters hp = AdamW.Hyperparameters.torchDefaults();
        Parameters ps = randomModel(1);
        AdamW opt = new AdamW(ps, hp);
        Path state = dir.resolve("state.safetensors");
        opt.write(state);

        AdamW otherBeta = new AdamW(randomModel(1), new AdamW.Hyperparameters(1e-3, 0.9, 0.99, 1e-8, 0.01));
        assertMessage(() -> otherBeta.read(state), "saved with beta2=0.999, this run uses 0.99");

        // a model with one parameter more: its moments are missing from the file
        Parameters bigger = randomModel(1);
        bigger.add(Parameter.trainable("extra", new long[] {2}, new float[2]));
        assertMessage(() -> new AdamW(bigger, hp).read(state), "tensor exp_avg.extra missing");

        // a model with a parameter less: the file has moments nobody claims
        Parameters smaller = new Parameters();
        for (Parameter p : ps.trainable()) if (!p.name().equals("p4")) smaller.add(Parameter.trainable(p.name(), p.shape(), p.value().clone()));
        assertMessage(() -> new AdamW(smaller, hp).read(state), "exp_avg.p4 has no matching trainable parameter");

        // same names, other shape
        Parameters reshaped = new Parameters();
        for (Parameter p : ps.trainable())
            reshaped.add(Parameter.trainable(p.name(), p.name().equals("p2") ? new long[] {3, 11} : p.shape(), p.value().clone()));
        assertMessage(() -> new AdamW(reshaped, hp).read(state), "exp_avg.p2 has shape [33], the parameter [3, 11]");

        Path notState = dir.resolve("weights.safetensors");
        new SafetensorsWriter().addFloats("w", DType.F32, new long[] {1}, new float[1]).write(notState);
        assertMessage(() -> opt.read(notState), "not an ovis4j-adamw state file");
        assertMessage(() -> opt.read(dir.resolve("missing.safetensors")), "file not found");
    }

    static void assertMessage(Runnable r, String fragment) {
        OvisException e = assertThrows(OvisException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), "message \"" + e.getMessage() + "\" should contain \"" + fragment + "\"");
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void rejectsBadHyperparameters() {
        assertMessage(() -> new AdamW.Hyperparameters(1e-3, 1.0, 0.999, 1e-8, 0), "invalid hyperparameters");
        assertMessage(() -> new AdamW.Hyperparameters(-1, 0.9, 0.999, 1e-8, 0), "invalid hyperparameters");
        Parameters none = new Parameters();
        none.add(Parameter.frozen("f", new long[] {1}, new float[1]));
        assertMessage(() -> new AdamW(none, AdamW.Hyperparameters.torchDefaults()), "no trainable parameters");
    }
}
