package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.ovis4j.train.testing.TrainingGoldens.assertRelative;
import static org.ovis4j.train.testing.TrainingGoldens.assertScaled;
import static org.ovis4j.train.testing.TrainingGoldens.maxAbs;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * {@code ovis4j train step} reproduces the training goldens (shared/goldens/ovis_image_tiny/training,
 * copied into ovis4j-train's test resources) from the files alone, compared with the rules of the golden
 * tests (goldens README 9.9, the same helper): tensors max|a − b| ≤ 2e-4 · scale, scale = max|reference|
 * and for gradients at least 1e-2 of the file's largest parameter gradient; losses and norms 1e-5
 * relative; exactly-zero gradients (the VAE's key biases) 1e-6 of the largest parameter gradient
 * absolute; AdamW parameters end to end at 2e-5 absolute except the rounding-sensitive elements.
 * Diffusion-DPO and Flow-GRPO keep the bounds of their golden tests (below). The justification of each
 * bound is in FlowMatchingGoldenTest, LoraGoldenTest, VaeGoldenTest, DiffusionDpoGoldenTest,
 * FlowGrpoGoldenTest and below for AdamW.
 */
class TrainStepCliTest {
    static final Path GOLDENS = Path.of("../ovis4j-train/src/test/resources/goldens").toAbsolutePath().normalize();
    static final Path MODEL = GOLDENS.resolve("ovis_image_tiny"), TRAINING = GOLDENS.resolve("training");
    static final double TOL = 2e-4, SCALAR = 1e-5;

    @TempDir Path dir;

    static Map<String, Tensor> read(Path file) {
        return SafetensorsFile.read(file, Arena.ofAuto()).tensors();
    }

    static float[] f(Map<String, Tensor> m, String name) {
        Tensor t = m.get(name);
        if (t == null) fail("no tensor " + name);
        return t.toFloats();
    }

    private Map<String, Tensor> step(String batch, String... more) {
        Path out = dir.resolve(batch.replace(".safetensors", "") + ".out.safetensors");
        String[] args = {"train", "step", "--model", MODEL.toString(), "--batch", TRAINING.resolve(batch).toString(), "--out", out.toString()};
        String[] all = Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        CliTest.Result r = CliTest.run(all);
        assertEquals(0, r.code(), r.err());
        return read(out);
    }

    /** The 105 parameter gradients' largest |value|: the floor of every gradient's scale (as FlowMatchingGoldenTest). */
    private static double parameterGradientScale(Map<String, Tensor> golden, Map<String, Tensor> model) {
        double m = 0;
        for (String name : model.keySet()) m = Math.max(m, maxAbs(f(golden, "grad." + name)));
        return m;
    }

    static Map<String, Tensor> transformerWeights() {
        return read(MODEL.resolve("transformer/diffusion_pytorch_model.safetensors"));
    }

    @Test
    void flowMatchingStep() {
        Map<String, Tensor> g = read(TRAINING.resolve("flow_matching.safetensors")), out = step("flow_matching.safetensors");
        Map<String, Tensor> weights = transformerWeights();
        double floor = 1e-2 * parameterGradientScale(g, weights), worst = 0;
        for (String k : new String[] {"x_t", "target", "pred"}) worst = Math.max(worst, assertScaled(k, f(g, k), f(out, k), TOL, 0));
        assertRelative("loss", f(g, "loss")[0], f(out, "loss")[0], SCALAR);
        worst = Math.max(worst, assertScaled("grad.x_t", f(g, "grad.x_t"), f(out, "grad.x_t"), TOL, floor));
        // the zero text row [1, 4] has a gradient ~1000x the others' (goldens README 9.1): compared on its own
        int row = (5 + 4) * 64;
        float[] e = f(g, "grad.prompt_embeds"), a = f(out, "grad.prompt_embeds");
        worst = Math.max(worst, assertScaled("grad.prompt_embeds[1, 4]", Arrays.copyOfRange(e, row, row + 64), Arrays.copyOfRange(a, row, row + 64), TOL, floor));
        for (int i = row; i < row + 64; i++) e[i] = a[i] = 0;
        worst = Math.max(worst, assertScaled("grad.prompt_embeds (other rows)", e, a, TOL, floor));
        for (String name : weights.keySet()) worst = Math.max(worst, assertScaled("grad." + name, f(g, "grad." + name), f(out, "grad." + name), TOL, floor));
        // σ sampling: the same float32 formulas as torch, so the same bits (SigmaSamplerTest)
        for (String k : new String[] {"sigma_sampling.sigma", "sigma_sampling.sigma_mu", "sigma_sampling.sigma_discrete"})
            assertEquals(Arrays.toString(f(g, k)), Arrays.toString(f(out, k)), k);
        assertEquals(Arrays.toString(g.get("sigma_sampling.index").toLongs()), Arrays.toString(out.get("sigma_sampling.index").toLongs()));
        assertEquals(g.get("sigma_sampling.mu").getDouble(0), out.get("sigma_sampling.mu").getDouble(0), 1e-15);
        System.out.printf("train step flow_matching: worst %.3g of scale, loss %.9g (golden %.9g)%n", worst, f(out, "loss")[0], f(g, "loss")[0]);
    }

    @Test
    void loraStep() {
        Map<String, Tensor> g = read(TRAINING.resolve("lora.safetensors")), out = step("lora.safetensors");
        assertRelative("loss", f(g, "loss")[0], f(out, "loss")[0], SCALAR);
        double worst = assertScaled("pred", f(g, "pred"), f(out, "pred"), TOL, 0), floor = 1e-2 * maxAbs(g, "grad.");
        int n = 0;
        for (String k : g.keySet())
            if (k.startsWith("grad.")) {
                worst = Math.max(worst, assertScaled(k, f(g, k), f(out, k), TOL, floor));
                n++;
            }
        assertEquals(52, n);
        assertFalse(out.containsKey("grad.transformer_blocks.0.attn.to_q.weight"), "the base is frozen");
        System.out.printf("train step lora: worst %.3g of scale%n", worst);
    }

    @Test
    void vaeStep() {
        Map<String, Tensor> g = read(TRAINING.resolve("vae.safetensors")), out = step("vae.safetensors");
        Map<String, Tensor> weights = read(MODEL.resolve("vae/diffusion_pytorch_model.safetensors"));
        double maxParam = parameterGradientScale(g, weights), floor = 1e-2 * maxParam, worst = 0;
        for (String k : new String[] {"posterior_mean", "posterior_logvar", "posterior_std", "z", "recon"})
            worst = Math.max(worst, assertScaled(k, f(g, k), f(out, k), TOL, 0));
        for (String k : new String[] {"rec_loss", "kl_term", "loss"}) assertRelative(k, f(g, k)[0], f(out, k)[0], SCALAR);
        for (int b = 0; b < 2; b++) assertRelative("kl[" + b + "]", f(g, "kl")[b], f(out, "kl")[b], SCALAR);
        for (String k : new String[] {"grad.image", "grad.posterior_mean", "grad.posterior_logvar"})
            worst = Math.max(worst, assertScaled(k, f(g, k), f(out, k), TOL, floor));
        for (String name : weights.keySet()) {
            if (name.endsWith("mid_block.attentions.0.to_k.bias")) { // zero in exact arithmetic (README 9.5)
                assertTrue(maxAbs(f(out, "grad." + name)) <= 1e-6 * maxParam, name);
                continue;
            }
            worst = Math.max(worst, assertScaled("grad." + name, f(g, "grad." + name), f(out, "grad." + name), TOL, floor));
        }
        System.out.printf("train step vae: worst %.3g of scale%n", worst);
    }

    /**
     * Clipping and two AdamW steps end to end, with our own gradients (goldens README 9.9). The first steps
     * are nearly sign descent, lr·g/(|g| + eps): where the clipped gradient is below ~1e-6 its float32
     * rounding noise moves the update by up to a fraction of lr, so those elements (|coef·g| < 1e-6 at
     * step 1; sqrt(v̂) < 1e-6 at step 2, or sensitive at step 1) are allowed lr = 1e-3; all others 2e-5
     * (the reference's own float32 error there is 2.5e-6). The moments are linear (exp_avg) and quadratic
     * (exp_avg_sq) in the clipped gradients, compared as gradients are (2e-4 of the tensor's scale, the scale
     * at least 1e-2 — for exp_avg_sq (1e-2)² — of the largest moment), the clip norms and step 2's loss at 1e-5.
     */
    @Test
    void adamwTwoSteps() {
        Map<String, Tensor> g = read(TRAINING.resolve("adamw.safetensors")), flow = read(TRAINING.resolve("flow_matching.safetensors"));
        Map<String, Tensor> out = step("flow_matching.safetensors", "--adamw", TRAINING.resolve("adamw.safetensors").toString());
        for (String k : new String[] {"step1.total_norm", "step1.clip_coef", "step2.loss", "step2.total_norm", "step2.clip_coef"})
            assertRelative(k, f(g, k)[0], f(out, k)[0], SCALAR);
        double lr = g.get("hp.lr").getDouble(0), b2 = g.get("hp.beta2").getDouble(0), coef = f(g, "step1.clip_coef")[0];
        double bc2 = 1 - b2 * b2, maxM = maxAbs(g, "exp_avg."), maxV = maxAbs(g, "exp_avg_sq.");
        long sensitive1 = 0, sensitive2 = 0, total = 0;
        double worst1 = 0, worst2 = 0, worstM = 0;
        Map<String, Double> worstSensitive = new LinkedHashMap<>();
        for (String name : transformerWeights().keySet()) {
            float[] grad = f(flow, "grad." + name), v = f(g, "exp_avg_sq." + name);
            float[] p1 = f(g, "param1." + name), q1 = f(out, "param1." + name), p2 = f(g, "param2." + name), q2 = f(out, "param2." + name);
            for (int i = 0; i < grad.length; i++) {
                boolean s1 = Math.abs(coef * grad[i]) < 1e-6, s2 = s1 || Math.sqrt(v[i] / bc2) < 1e-6;
                double d1 = Math.abs((double) q1[i] - p1[i]), d2 = Math.abs((double) q2[i] - p2[i]);
                if (d1 > (s1 ? lr : 2e-5)) fail(String.format("param1.%s[%d]: %.9g, expected %.9g%s", name, i, q1[i], p1[i], s1 ? " (sensitive)" : ""));
                if (d2 > (s2 ? lr : 2e-5)) fail(String.format("param2.%s[%d]: %.9g, expected %.9g%s", name, i, q2[i], p2[i], s2 ? " (sensitive)" : ""));
                if (s1) { sensitive1++; worstSensitive.merge("param1", d1, Math::max); } else worst1 = Math.max(worst1, d1);
                if (s2) { sensitive2++; worstSensitive.merge("param2", d2, Math::max); } else worst2 = Math.max(worst2, d2);
                total++;
            }
            worstM = Math.max(worstM, assertScaled("exp_avg." + name, f(g, "exp_avg." + name), f(out, "exp_avg." + name), TOL, 1e-2 * maxM));
            worstM = Math.max(worstM, assertScaled("exp_avg_sq." + name, v, f(out, "exp_avg_sq." + name), TOL, 1e-4 * maxV));
        }
        assertTrue(sensitive1 > 0 && sensitive1 < total / 50, sensitive1 + " sensitive elements at step 1");
        System.out.printf("train step --adamw: param1 max |diff| %.3g (%d sensitive elements: %.3g), param2 %.3g (%d sensitive: %.3g), "
                + "moments worst %.3g of scale%n", worst1, sensitive1, worstSensitive.getOrDefault("param1", 0.0), worst2, sensitive2,
                worstSensitive.getOrDefault("param2", 0.0), worstM);
    }

    /** The golden's results: every key but the batch (in.*, hp.*, the reference deltas and the LoRA weights it carries). */
    private static Set<String> results(Map<String, Tensor> golden) {
        Set<String> keys = new TreeSet<>();
        for (String k : golden.keySet())
            if (!k.startsWith("in.") && !k.startsWith("hp.") && !k.startsWith("ref_delta.") && !(k.startsWith("transformer.") && k.contains(".lora_")))
                keys.add(k);
        return keys;
    }

    /** The output has exactly the golden's result keys, each with the golden's dtype and shape. */
    private static void assertSameKeys(Map<String, Tensor> golden, Map<String, Tensor> out) {
        assertEquals(results(golden), new TreeSet<>(out.keySet()));
        for (String k : out.keySet()) {
            assertEquals(golden.get(k).dtype(), out.get(k).dtype(), k);
            assertArrayEquals(golden.get(k).shape(), out.get(k).shape(), k);
        }
    }

    private static double[] d(Map<String, Tensor> m, String name) {
        Tensor t = m.get(name);
        double[] v = new double[(int) t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = t.getDouble(i);
        return v;
    }

    /** Each value within {@code rel} of its golden value, relative; returns the worst relative error. */
    private static double relative(String k, Map<String, Tensor> g, Map<String, Tensor> out, double rel) {
        double[] e = d(g, k), a = d(out, k);
        double worst = 0;
        for (int i = 0; i < e.length; i++) {
            assertRelative(k + "[" + i + "]", e[i], a[i], rel);
            worst = Math.max(worst, Math.abs(a[i] - e[i]) / Math.abs(e[i]));
        }
        return worst;
    }

    /**
     * Diffusion-DPO (goldens README 9.6) with the reference loaded from the checkpoint a second time and
     * moved by the batch's ref_delta.*, every result key compared with the bounds of DiffusionDpoGoldenTest
     * (README 9.9): x_t, pred, ref_pred 2e-4 of the scale (plain forwards, the reference's own error ≤ 3.1e-5);
     * the four errors 1e-5 relative; logits 2e-3 of max|logits| and the loss 2e-3 relative, gradients 3e-3
     * of the scale (floor 1e-2 of the largest): these are err − ref_err (~1e-3 of err) times β/2 = 1000,
     * where the reference's float32 values alone are off float64 by 4.4e-4 (logits), 2.2e-4 (loss), 4.6e-4
     * (gradients), and ours independently by as much.
     */
    @Test
    void dpoStep() {
        Map<String, Tensor> g = read(TRAINING.resolve("dpo.safetensors")), out = step("dpo.safetensors");
        assertSameKeys(g, out);
        double floor = 1e-2 * maxAbs(g, "grad."), worstTensor = 0, worstErr = 0, worstLogits = 0, worstLoss = 0, worstGrad = 0;
        int grads = 0;
        for (String k : out.keySet()) {
            switch (k) {
                case "x_t", "pred", "ref_pred" -> worstTensor = Math.max(worstTensor, assertScaled(k, f(g, k), f(out, k), TOL, 0));
                case "err_w", "err_l", "ref_err_w", "ref_err_l" -> worstErr = Math.max(worstErr, relative(k, g, out, SCALAR));
                case "logits" -> worstLogits = assertScaled(k, f(g, k), f(out, k), 2e-3, 0);
                case "loss" -> worstLoss = relative(k, g, out, 2e-3);
                default -> {
                    assertTrue(k.startsWith("grad."), "no rule for " + k);
                    worstGrad = Math.max(worstGrad, assertScaled(k, f(g, k), f(out, k), 3e-3, floor));
                    grads++;
                }
            }
        }
        assertEquals(105, grads);
        System.out.printf("train step dpo: tensors %.3g of scale, errors %.3g relative, logits %.3g of scale, loss %.3g relative, "
                + "gradients %.3g of scale%n", worstTensor, worstErr, worstLogits, worstLoss, worstGrad);
    }

    /**
     * Flow-GRPO (goldens README 9.7): the sampling pass, the training pass on the stored transition with the
     * stored old log-probabilities and raw advantages, the reference with the adapters off, the group
     * advantages of the stored rewards, every result key compared with the bounds of FlowGrpoGoldenTest
     * (README 9.9): velocities and means 2e-4 of the scale and LoRA gradients 2e-4 of the scale (floor 1e-2
     * of the largest; the reference's float32 error ≤ 2.7e-5); log-probabilities, ratio and the float64
     * losses 1e-5 relative (f32 against f64: 4.4e-8); KL terms and approx_kl 1e-4 relative (means of
     * squared differences of close numbers, f32 against f64: 6.5e-6). The schedule values, the clamped
     * advantages, clipfrac and the group advantages are the same IEEE operations on stored inputs: exact;
     * std_dev_t within 1 float32 ulp (one of PyTorch's CPU kernels rounds sample 1 up, FlowGrpoGoldenTest).
     */
    @Test
    void grpoStep() {
        Map<String, Tensor> g = read(TRAINING.resolve("grpo.safetensors")), out = step("grpo.safetensors");
        assertSameKeys(g, out);
        double floor = 1e-2 * maxAbs(g, "grad."), worstTensor = 0, worstScalar = 0, worstKl = 0, worstGrad = 0;
        int grads = 0;
        for (String k : out.keySet()) {
            switch (k) {
                case "sample.noise_pred", "sample.prev_sample", "noise_pred_uncond", "noise_pred_text", "noise_pred", "prev_sample_mean",
                     "ref.noise_pred", "ref.prev_sample_mean" -> worstTensor = Math.max(worstTensor, assertScaled(k, f(g, k), f(out, k), TOL, 0));
                case "sample.log_prob", "log_prob", "ref.log_prob", "ratio", "unclipped_loss", "clipped_loss", "policy_loss", "loss" ->
                        worstScalar = Math.max(worstScalar, relative(k, g, out, SCALAR));
                case "kl_per_sample", "kl_loss", "approx_kl" -> worstKl = Math.max(worstKl, relative(k, g, out, 1e-4));
                case "sigma", "sigma_next", "sigma_max", "timestep_in", "advantages", "clipfrac", "adv.advantages_global_std",
                     "adv.advantages_group_std" -> assertArrayEquals(d(g, k), d(out, k), 0, k);
                case "std_dev_t" -> {
                    float[] e = f(g, k), a = f(out, k);
                    for (int i = 0; i < e.length; i++) assertEquals(e[i], a[i], Math.ulp(e[i]), k + "[" + i + "]");
                }
                default -> {
                    assertTrue(k.startsWith("grad.transformer.") && k.contains(".lora_"), "no rule for " + k);
                    worstGrad = Math.max(worstGrad, assertScaled(k, f(g, k), f(out, k), TOL, floor));
                    grads++;
                }
            }
        }
        assertEquals(52, grads);
        System.out.printf("train step grpo: tensors %.3g of scale, log-probs/ratio/losses %.3g relative, KL terms %.3g relative, "
                + "LoRA gradients %.3g of scale, loss %.9g (golden %.9g)%n", worstTensor, worstScalar, worstKl, worstGrad,
                out.get("loss").getDouble(0), g.get("loss").getDouble(0));
    }

    @Test
    void batchesOfNoKnownKindAndMisuseAreOneLineErrors() throws Exception {
        Path odd = dir.resolve("odd.safetensors");
        new SafetensorsWriter().addFloats("in.latents", DType.F32, new long[] {2}, new float[] {1, 2})
                .addFloats("in.reward", DType.F32, new long[] {1}, new float[] {0.5f}).write(odd);
        CliTest.Result r = CliTest.run("train", "step", "--model", MODEL.toString(), "--batch", odd.toString(), "--out", dir.resolve("o.safetensors").toString());
        CliTest.assertOneLineError(r, "odd.safetensors: not a training batch: expected in.x0 (flow matching, LoRA with "
                + "transformer.<module>.lora_A.weight), in.image (VAE), in.x_w and in.x_l (Diffusion-DPO) or in.x_t with in.prev_sample, "
                + "in.old_log_prob or in.variance_noise (Flow-GRPO); it holds in.latents, in.reward");
        r = CliTest.run("train", "step", "--model", MODEL.toString(), "--batch", MODEL.resolve("vae/diffusion_pytorch_model.safetensors").toString(),
                "--out", dir.resolve("o.safetensors").toString());
        CliTest.assertOneLineError(r, "not a training batch: expected in.x0");
        // a GRPO batch without the LoRA whose adapters-off view is the reference
        Path bare = dir.resolve("bare.safetensors");
        new SafetensorsWriter().addFloats("in.x_t", DType.F32, new long[] {1, 6, 64}, new float[6 * 64])
                .addFloats("in.prev_sample", DType.F32, new long[] {1, 6, 64}, new float[6 * 64]).write(bare);
        r = CliTest.run("train", "step", "--model", MODEL.toString(), "--batch", bare.toString(), "--out", dir.resolve("o.safetensors").toString());
        CliTest.assertOneLineError(r, "a Flow-GRPO batch needs the policy's LoRA");
        // the goldens have AdamW vectors for flow matching only
        for (String[] c : new String[][] {{"vae.safetensors", "VAE"}, {"dpo.safetensors", "Diffusion-DPO"}, {"grpo.safetensors", "Flow-GRPO"}}) {
            r = CliTest.run("train", "step", "--model", MODEL.toString(), "--batch", TRAINING.resolve(c[0]).toString(),
                    "--adamw", TRAINING.resolve("adamw.safetensors").toString(), "--out", dir.resolve("o.safetensors").toString());
            CliTest.assertOneLineError(r, "--adamw steps a flow-matching or LoRA batch (the goldens' AdamW vectors); "
                    + TRAINING.resolve(c[0]) + " is a " + c[1] + " batch");
        }
        r = CliTest.run("train", "step", "--model", MODEL.toString(), "--batch", dir.resolve("none.safetensors").toString(),
                "--out", dir.resolve("o.safetensors").toString());
        CliTest.assertOneLineError(r, "none.safetensors: file not found");
        assertFalse(Files.exists(dir.resolve("o.safetensors")));
    }
}
