package org.ovis4j.train.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.schedule.FlowMatchEulerScheduler;
import org.ovis4j.schedule.FlowMatchEulerScheduler.Schedule;

/** Flow-GRPO's SDE step and objective on their own, on random data: formulas, gradient against central differences. */
class FlowGrpoTest {
    static final int SAMPLES = 3, PER = 3 * 5; // 3 image tokens of 5 channels: odd sizes
    static final Schedule SCHEDULE = FlowMatchEulerScheduler.defaults().schedule(10, 6);
    static final int[] STEPS = {0, 4, 7}; // σ = 1 (the sigma_max rule), two inner steps

    static float[] gaussian(SplittableRandom rnd, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (scale * rnd.nextGaussian());
        return x;
    }

    static FlowGrpo.StepInput input(float[] latents) {
        return new FlowGrpo.StepInput(SAMPLES, 3, 1, latents, new float[SAMPLES * 4], new float[SAMPLES * 4], new float[3],
                new float[9], SCHEDULE, STEPS);
    }

    @Test
    void sdeStepFollowsItsFormulas() {
        SplittableRandom rnd = new SplittableRandom(21);
        SdeStep sde = SdeStep.of(SCHEDULE.sigmas(), STEPS, 0.7);
        float[] sigmas = SCHEDULE.sigmas(), std = sde.stdDevT(), dt = sde.dt();
        for (int b = 0; b < SAMPLES; b++) {
            double sg = sigmas[STEPS[b]], tilde = b == 0 ? sigmas[1] : sg;
            assertEquals(0.7 * Math.sqrt(sg / (1 - tilde)), std[b], 3e-7 * std[b], "std_dev_t " + b);
            assertEquals((double) sigmas[STEPS[b] + 1] - sg, dt[b], 0);
        }
        assertEquals(1f, sde.sigma()[0]);
        float[] x = gaussian(rnd, SAMPLES * PER, 1), v = gaussian(rnd, SAMPLES * PER, 1), eps = gaussian(rnd, SAMPLES * PER, 1);
        float[] mean = sde.mean(x, v), next = sde.sample(mean, eps), lp = sde.logProb(next, mean);
        for (int b = 0; b < SAMPLES; b++) {
            double sg = sigmas[STEPS[b]], var = (double) std[b] * std[b], s = std[b] * Math.sqrt(-dt[b]), sq = 0;
            for (int i = b * PER; i < (b + 1) * PER; i++) {
                double m = x[i] * (1 + var / (2 * sg) * dt[b]) + v[i] * (1 + var * (1 - sg) / (2 * sg)) * dt[b];
                assertEquals(m, mean[i], 1e-6 * (1 + Math.abs(m)), "mean " + i);
                double r = ((double) next[i] - mean[i]) / s;
                assertEquals(eps[i], r, 1e-5 * (1 + Math.abs(eps[i])), "x' = mean + s·ε");
                sq += (double) eps[i] * eps[i];
            }
            // the residual of a draw is s·ε: log p = −mean(ε²)/2 − log s − log √(2π)
            double expected = -0.5 * sq / PER - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
            assertEquals(expected, lp[b], 1e-5 * Math.abs(expected), "log p " + b);
        }
    }

    @Test
    void badStepsAreOneLineErrors() {
        assertEquals("SDE step: step index 10 of sample 0 is outside the schedule's 10 steps",
                assertThrows(OvisException.class, () -> SdeStep.of(SCHEDULE.sigmas(), new int[] {10}, 0.7)).getMessage());
        assertThrows(OvisException.class, () -> SdeStep.of(new float[] {0.5f, 0.6f}, new int[] {0}, 0.7));
        assertThrows(OvisException.class, () -> SdeStep.of(SCHEDULE.sigmas(), new int[] {0}, 0));
    }

    /**
     * The gradient of the whole objective (clipped surrogate with one sample inside the clip range, one
     * clipped and one beyond it on the unclipped side, plus the KL term) along random directions of the
     * prompt half of the prediction, against central differences of the loss. The loss keeps PyTorch's
     * float32 intermediates (log p, ratio), whose rounding (~6e-8) over a step of 2h·|slope| ≈ 2e-3 and
     * the O(h²) remainder bound the agreement: 1e-3 relative.
     */
    @Test
    void gradientMatchesCentralDifferencesAlongRandomDirections() {
        SplittableRandom rnd = new SplittableRandom(5);
        // β = 2 and a reference 0.5 away make the KL term's share of the gradient comparable to the surrogate's
        FlowGrpo grpo = new FlowGrpo(new FlowGrpo.Settings(0.7, 4.5, 0.05, 5, 2));
        int n = SAMPLES * PER;
        float[] x = gaussian(rnd, n, 1), both = gaussian(rnd, 2 * n, 1), refBoth = both.clone();
        for (int i = 0; i < refBoth.length; i++) refBoth[i] += (float) (0.5 * rnd.nextGaussian());
        FlowGrpo.StepInput in = input(x);
        SdeStep sde = grpo.sdeStep(in);
        float[] next = sde.sample(sde.mean(x, gaussian(rnd, n, 1)), gaussian(rnd, n, 1));
        float[] lp = grpo.evaluate(both, refBoth, in, next, new float[SAMPLES], new double[SAMPLES]).logProb();
        // sample 0 at ratio 1 (inside ±0.05); sample 1 with A < 0 and ratio 0.82 (clipped: no policy gradient);
        // sample 2 with A > 0 and ratio 0.82 (the unclipped term is the larger: gradient flows); A = 7 is clamped to 5
        float[] old = {lp[0], lp[1] + 0.2f, lp[2] + 0.2f};
        double[] adv = {1.3, -2.0, 7.0};
        FlowGrpo.Step step = grpo.evaluate(both, refBoth, in, next, old, adv);
        assertArrayEquals(new double[] {1.3, -2.0, 5.0}, step.advantages(), 0);
        assertEquals(2f / 3, step.clipFraction());
        float[] g = step.predictionGradient();
        for (int i = 0; i < n; i++) assertEquals(0f, g[i], "the unconditional half is detached");
        for (int trial = 0; trial < 4; trial++) {
            float[] d = gaussian(rnd, 2 * n, 1);
            for (int i = 0; i < n; i++) d[i] = 0;
            double h = 1e-3, slope = 0;
            for (int i = n; i < 2 * n; i++) slope += (double) g[i] * d[i];
            float[] up = both.clone(), down = both.clone();
            for (int i = n; i < 2 * n; i++) {
                up[i] = (float) (both[i] + h * d[i]);
                down[i] = (float) (both[i] - h * d[i]);
            }
            double fd = (grpo.evaluate(up, refBoth, in, next, old, adv).loss() - grpo.evaluate(down, refBoth, in, next, old, adv).loss())
                    / (2 * h);
            assertEquals(fd, slope, 1e-3 * Math.abs(fd), "direction " + trial);
        }
    }

    @Test
    void withoutKlTheReferenceIsNotNeeded() {
        SplittableRandom rnd = new SplittableRandom(9);
        FlowGrpo grpo = new FlowGrpo(new FlowGrpo.Settings(0.7, 4.5, 1e-4, 5, 0));
        int n = SAMPLES * PER;
        float[] x = gaussian(rnd, n, 1), both = gaussian(rnd, 2 * n, 1);
        FlowGrpo.StepInput in = input(x);
        float[] next = gaussian(rnd, n, 1);
        FlowGrpo.Step step = grpo.evaluate(both, null, in, next, new float[SAMPLES], new double[] {1, -1, 0.5});
        assertNull(step.referenceMean());
        assertEquals(0f, step.klLoss());
        assertEquals(step.policyLoss(), step.loss(), 0);
        FlowGrpo withKl = new FlowGrpo(FlowGrpo.Settings.flowGrpo());
        assertEquals("Flow-GRPO: a KL term (beta > 0) needs a reference model", assertThrows(OvisException.class,
                () -> withKl.forward(null, null, in, next, new float[SAMPLES], new double[SAMPLES], false)).getMessage());
    }

    @Test
    void guidanceIsUncondPlusScaledDifference() {
        float[] both = {1, -2, 3, 5};
        assertArrayEquals(new float[] {1 + 4.5f * 2, -2 + 4.5f * 7}, FlowGrpo.guide(both, 4.5f));
    }
}
