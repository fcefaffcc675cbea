package org.ovis4j.train.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.ovis4j.train.testing.TrainingGoldens.*;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.schedule.FlowMatchEulerScheduler;
import org.ovis4j.schedule.FlowMatchEulerScheduler.Schedule;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.lora.LoraAdapters;
import org.ovis4j.train.param.Parameter;

/**
 * training/grpo.safetensors (goldens README 9.7): one Flow-GRPO step of the tiny transformer with the
 * rank-4 LoRA of README 9.4 (base frozen) and the adapters switched off as the KL reference; the
 * sampling pass, the guided training pass, the SDE log-probabilities, ratio, clipped surrogate, KL
 * terms, loss and the 52 LoRA gradients, against flow_grpo's computation in PyTorch float32.
 *
 * <p>Tolerances (README 9.9): tensors and gradients 2e-4 of the scale (the reference's float32 error
 * against float64 is ≤ 2.7e-5 of it, 2.5e-6 with the float32 sinusoid both compute alike; two float32
 * implementations differ by about twice that), a gradient's scale being at least 1e-2 of the file's
 * largest LoRA gradient. Log-probabilities, ratio, the float64 losses: 1e-5 relative (f32 against f64:
 * loss 4.4e-8; log p depends on the model only through the residual x' − mean, whose float32 error of
 * ~1e-6 averages out over 384 elements). KL terms and approx_kl: 1e-4 relative, being means of squared
 * differences of close numbers (mean − mean_ref; f32 against f64: 6.5e-6). The schedule values,
 * the clamped advantages and clipfrac are the same IEEE operations on stored inputs: exact. std_dev_t
 * too, but for one float32 ulp: the reference's 1.0777751 (sample 1) is one ulp above both the
 * correctly rounded float32 steps of the formula (σ/(1 − σ), √, ×0.7f: 1.0777750) and the correctly
 * rounded real value (1.07777503…), so one of PyTorch's CPU kernels rounds differently there; one ulp
 * of std_dev_t moves the SDE mean by ~1e-8 relative.
 */
class FlowGrpoGoldenTest {
    static final Map<String, Tensor> G = read("grpo.safetensors");
    static final String PREFIX = "transformer.", A = ".lora_A.weight";
    static final int SAMPLES = 2, N = 6, T = 5;
    static final double TOL = 2e-4, SCALAR_TOL = 1e-5, KL_TOL = 1e-4;

    static double hp(String name) {
        return tensor(G, "hp." + name).getDouble(0);
    }

    static double[] doubles(String name) {
        Tensor t = tensor(G, name);
        assertEquals("F64", t.dtype().name(), name);
        double[] d = new double[(int) t.numel()];
        for (int i = 0; i < d.length; i++) d[i] = t.getDouble(i);
        return d;
    }

    static FlowGrpo.Settings settings() {
        return new FlowGrpo.Settings(hp("noise_level"), hp("guidance_scale"), hp("clip_range"), hp("adv_clip_max"), hp("kl_beta"));
    }

    /** The policy: the tiny transformer with the file's adapters at hp.lora_scale, base frozen. */
    static TrainableTransformer policy() {
        Map<String, LoraAdapters.Weights> m = LoraAdapters.stored(G, PREFIX);
        assertEquals(26, m.size());
        int rank = LoraAdapters.storedRank(G, PREFIX);
        LoraAdapters lora = new LoraAdapters(rank, hp("lora_scale") * rank, m);
        assertEquals(hp("lora_scale"), lora.scale(), 0);
        return TrainableTransformer.load(tinyModel(), false, lora);
    }

    static int[] stepIndex() {
        long[] j = tensor(G, "in.step_index").toLongs();
        return new int[] {Math.toIntExact(j[0]), Math.toIntExact(j[1])};
    }

    static FlowGrpo.StepInput stepInput(float[] latents) {
        Schedule schedule = new Schedule(floats(G, "in.sigmas"), floats(G, "in.timesteps"), Double.NaN, 1000);
        return new FlowGrpo.StepInput(SAMPLES, N, T, latents, floats(G, "in.prompt_embeds"), floats(G, "in.negative_prompt_embeds"),
                floats(G, "in.txt_ids"), floats(G, "in.img_ids"), schedule, stepIndex());
    }

    /** The stored schedule is the pipeline's for 6 tokens and 10 steps, and the per-sample step values follow from it exactly. */
    @Test
    void scheduleAndStepCoefficientsAreExact() {
        Schedule pipeline = FlowMatchEulerScheduler.fromConfig(tinyModel().resolve("scheduler/scheduler_config.json"))
                .schedule((int) hp("num_steps"), N);
        assertArrayEquals(floats(G, "in.sigmas"), pipeline.sigmas());
        assertArrayEquals(floats(G, "in.timesteps"), pipeline.timesteps());
        FlowGrpo.StepInput in = stepInput(floats(G, "in.x_t"));
        SdeStep sde = new FlowGrpo(settings()).sdeStep(in);
        assertArrayEquals(floats(G, "sigma"), sde.sigma());
        assertArrayEquals(floats(G, "sigma_next"), sde.sigmaNext());
        assertEquals(floats(G, "sigma_max")[0], in.schedule().sigmas()[1]);
        assertWithinUlps("std_dev_t", floats(G, "std_dev_t"), sde.stdDevT(), 1);
        int[] j = stepIndex();
        assertArrayEquals(floats(G, "timestep_in"), new float[] {pipeline.modelSigma(j[0]), pipeline.modelSigma(j[1])});
    }

    @Test
    void rolloutLossAndLoraGradientsMatchFlowGrpo() {
        TrainableTransformer policy = policy(), reference = policy.withoutAdapters();
        assertEquals(105, reference.parameters().count());
        FlowGrpo grpo = new FlowGrpo(settings());
        Map<String, Double> worst = new LinkedHashMap<>();

        // sampling: from x_t with the stored variance noise
        FlowGrpo.Rollout r = grpo.sample(policy, stepInput(floats(G, "in.x_t")), floats(G, "in.variance_noise"));
        worst.put("sample.noise_pred", assertScaled("sample.noise_pred", floats(G, "sample.noise_pred"), r.velocity(), TOL, 0));
        worst.put("sample.prev_sample", assertScaled("sample.prev_sample", floats(G, "sample.prev_sample"), r.next(), TOL, 0));
        worst.merge("log_prob (relative)", scalars("sample.log_prob", floats(G, "sample.log_prob"), r.logProb(), SCALAR_TOL), Math::max);
        assertArrayEquals(floats(G, "in.prev_sample"), floats(G, "sample.prev_sample"));

        // training: the stored transition x_t → prev_sample
        FlowGrpo.Step s = grpo.forward(policy, reference, stepInput(floats(G, "in.x_t")), floats(G, "in.prev_sample"),
                floats(G, "in.old_log_prob"), doubles("in.advantages_raw"), false);
        for (String[] k : new String[][] {{"noise_pred_uncond", "u"}, {"noise_pred_text", "t"}, {"noise_pred", "v"},
                {"prev_sample_mean", "mean"}, {"ref.noise_pred", "rv"}, {"ref.prev_sample_mean", "rmean"}}) {
            float[] actual = switch (k[1]) {
                case "u" -> s.uncondVelocity();
                case "t" -> s.textVelocity();
                case "v" -> s.velocity();
                case "mean" -> s.mean();
                case "rv" -> s.referenceVelocity();
                default -> s.referenceMean();
            };
            worst.put(k[0], assertScaled(k[0], floats(G, k[0]), actual, TOL, 0));
        }
        assertWithinUlps("std_dev_t", floats(G, "std_dev_t"), s.stdDevT(), 1);
        worst.merge("log_prob (relative)", scalars("log_prob", floats(G, "log_prob"), s.logProb(), SCALAR_TOL), Math::max);
        worst.merge("log_prob (relative)", scalars("ref.log_prob", floats(G, "ref.log_prob"), s.referenceLogProb(), SCALAR_TOL), Math::max);
        worst.put("ratio (relative)", scalars("ratio", floats(G, "ratio"), s.ratio(), SCALAR_TOL));
        assertArrayEquals(doubles("advantages"), s.advantages(), 0);
        double lossErr = relative("unclipped_loss", doubles("unclipped_loss"), s.unclippedLoss(), SCALAR_TOL);
        lossErr = Math.max(lossErr, relative("clipped_loss", doubles("clipped_loss"), s.clippedLoss(), SCALAR_TOL));
        lossErr = Math.max(lossErr, relative("policy_loss", doubles("policy_loss"), new double[] {s.policyLoss()}, SCALAR_TOL));
        lossErr = Math.max(lossErr, relative("loss", doubles("loss"), new double[] {s.loss()}, SCALAR_TOL));
        worst.put("losses, float64 (relative)", lossErr);
        double klErr = scalars("kl_per_sample", floats(G, "kl_per_sample"), s.klPerSample(), KL_TOL);
        klErr = Math.max(klErr, scalars("kl_loss", floats(G, "kl_loss"), new float[] {s.klLoss()}, KL_TOL));
        klErr = Math.max(klErr, scalars("approx_kl", floats(G, "approx_kl"), new float[] {s.approxKl()}, KL_TOL));
        worst.put("kl terms (relative)", klErr);
        assertEquals(floats(G, "clipfrac")[0], s.clipFraction());

        s.backward();
        double floor = 1e-2 * maxAbs(G, "grad."), worstA = 0, worstB = 0;
        int compared = 0;
        for (Parameter p : policy.parameters()) {
            if (!p.trainable()) {
                assertNull(p.grad(), p.name());
                continue;
            }
            double e = assertScaled(p.name(), floats(G, "grad." + PREFIX + p.name()), p.grad(), TOL, floor);
            if (p.name().endsWith(A)) worstA = Math.max(worstA, e);
            else worstB = Math.max(worstB, e);
            compared++;
        }
        assertEquals(52, compared);
        worst.put("grad lora_A", worstA);
        worst.put("grad lora_B", worstB);
        worst.forEach((k, v) -> System.out.printf("grpo worst %-28s %.3g%n", k, v));
    }

    private static void assertWithinUlps(String what, float[] expected, float[] actual, int ulps) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++)
            assertEquals(expected[i], actual[i], ulps * Math.ulp(expected[i]), what + "[" + i + "]");
    }

    private static double scalars(String what, float[] expected, float[] actual, double tol) {
        double[] a = new double[actual.length];
        for (int i = 0; i < a.length; i++) a[i] = actual[i];
        double[] e = new double[expected.length];
        for (int i = 0; i < e.length; i++) e[i] = expected[i];
        return relative(what, e, a, tol);
    }

    private static double relative(String what, double[] expected, double[] actual, double tol) {
        assertEquals(expected.length, actual.length, what);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            assertRelative(what + "[" + i + "]", expected[i], actual[i], tol);
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.abs(expected[i]));
        }
        return worst;
    }
}
