package org.ovis4j.train.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.schedule.FlowMatchEulerScheduler;
import org.ovis4j.train.testing.TrainingGoldens;

class SigmaSamplerTest {
    private static final Map<String, Tensor> FLOW = TrainingGoldens.read("flow_matching.safetensors");
    private static final float[] U = TrainingGoldens.floats(FLOW, "in.sigma_sampling.u");
    /** N = 6 packed tokens (README 9.1). */
    private static final int N = 6;

    /**
     * The stored u give the stored σ bit for bit: the float32 formulas are torch's, and exp is correctly
     * rounded on both sides (an exp one ulp off would show here: a float64 sigmoid rounded to float32
     * misses two of the eight logit-normal values by one ulp).
     */
    @Test
    void storedDrawsGiveStoredSigmas() {
        float[] logitNormal = TrainingGoldens.floats(FLOW, "sigma_sampling.sigma");
        float[] ovis = TrainingGoldens.floats(FLOW, "sigma_sampling.sigma_mu");
        long[] index = TrainingGoldens.tensor(FLOW, "sigma_sampling.index").toLongs();
        float[] discrete = TrainingGoldens.floats(FLOW, "sigma_sampling.sigma_discrete");
        double mu = TrainingGoldens.tensor(FLOW, "sigma_sampling.mu").getDouble(0);
        assertEquals(mu, FlowMatchEulerScheduler.defaults().mu(N), 1e-15, "μ(6) = 0.5 + 0.65·(6 − 256)/3840");
        assertEquals((float) mu, (float) FlowMatchEulerScheduler.defaults().mu(N));

        SigmaSampler plain = new SigmaSampler(SigmaSampler.Density.LOGIT_NORMAL, 0, 1, FlowMatchEulerScheduler.defaults(), 0);
        SigmaSampler official = SigmaSampler.ovis(0);
        SigmaSampler scripts = new SigmaSampler(SigmaSampler.Density.LOGIT_NORMAL_DISCRETE, 0, 1, FlowMatchEulerScheduler.defaults(), 0);
        for (int b = 0; b < U.length; b++) {
            bits("sigma[" + b + "]", logitNormal[b], plain.sigma(U[b], N));
            bits("sigma_mu[" + b + "]", ovis[b], official.sigma(U[b], N));
            assertEquals(index[b], SigmaSampler.discreteIndex(SigmaSampler.logitNormal(U[b], 0, 1)), "index[" + b + "]");
            bits("sigma_discrete[" + b + "]", discrete[b], scripts.sigma(U[b], N));
        }
    }

    private static void bits(String what, float expected, float actual) {
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual), what + ": " + actual + " vs " + expected);
    }

    @Test
    void discreteTableEnds() {
        assertEquals(1f, SigmaSampler.discreteSigma(0));
        assertEquals(0.001f, SigmaSampler.discreteSigma(999));
        assertEquals(999, SigmaSampler.discreteIndex(1f), "sigmoid rounded to 1 takes the last entry");
        assertEquals(0, SigmaSampler.discreteIndex(0f));
        assertEquals(1f, SigmaSampler.logitNormal(20f, 0, 1), "float32 sigmoid saturates");
        assertEquals(0f, SigmaSampler.logitNormal(-200f, 0, 1));
    }

    /** A seed and step give the same draws; other steps or seeds give others. */
    @Test
    void drawsAreReproducible() {
        SigmaSampler a = SigmaSampler.ovis(42), b = SigmaSampler.ovis(42), c = SigmaSampler.ovis(43);
        assertArrayEquals(a.sample(7, 5, 1024), b.sample(7, 5, 1024));
        assertFalse(Arrays.equals(a.sample(7, 5, 1024), a.sample(8, 5, 1024)));
        assertFalse(Arrays.equals(a.sample(7, 5, 1024), c.sample(7, 5, 1024)));
        // a batch's first draws do not depend on the batch size
        assertEquals(a.sample(3, 1, 1024)[0], a.sample(3, 4, 1024)[0]);
    }

    /**
     * The logits of many draws are N(m, s²): their mean within 5 standard errors of m and their standard
     * deviation within 5 standard errors (s/√(2n)) of s.
     */
    @Test
    void logitsAreNormal() {
        double m = 0.3, s = 0.8;
        SigmaSampler sampler = new SigmaSampler(SigmaSampler.Density.LOGIT_NORMAL, m, s, FlowMatchEulerScheduler.defaults(), 5);
        int n = 0;
        double sum = 0, sumSq = 0;
        for (long step = 0; step < 2000; step++)
            for (float sigma : sampler.sample(step, 8, 4096)) {
                assertTrue(sigma > 0 && sigma < 1);
                double logit = Math.log(sigma / (1 - sigma));
                sum += logit;
                sumSq += logit * logit;
                n++;
            }
        double mean = sum / n, sd = Math.sqrt(sumSq / n - mean * mean);
        assertEquals(m, mean, 5 * s / Math.sqrt(n));
        assertEquals(s, sd, 5 * s / Math.sqrt(2.0 * n));
    }

    /** The official sampler's mean logit is μ(N): 1.15 at 4096 tokens (1024² images). */
    @Test
    void ovisMeanFollowsImageSize() {
        SigmaSampler sampler = SigmaSampler.ovis(9);
        int n = 0;
        double sum = 0;
        for (long step = 0; step < 2000; step++)
            for (float sigma : sampler.sample(step, 8, 4096)) {
                sum += Math.log(sigma / (1 - sigma));
                n++;
            }
        assertEquals(1.15, sum / n, 5 / Math.sqrt(n));
    }
}
