package org.ovis4j.train.run;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.schedule.FlowMatchEulerScheduler;
import org.ovis4j.schedule.FlowMatchEulerScheduler.Schedule;
import org.ovis4j.train.dit.Adapters;
import org.ovis4j.train.dit.InputGradients;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.dit.TransformerBatch;
import org.ovis4j.train.dit.TransformerPass;
import org.ovis4j.train.lora.LoraAdapters;
import org.ovis4j.train.loss.DiffusionDpo;
import org.ovis4j.train.loss.FlowGrpo;
import org.ovis4j.train.loss.FlowMatching;
import org.ovis4j.train.loss.GrpoAdvantages;
import org.ovis4j.train.loss.SdeStep;
import org.ovis4j.train.loss.VaeLoss;
import org.ovis4j.train.optim.AdamW;
import org.ovis4j.train.optim.GradClip;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.sampling.SigmaSampler;
import org.ovis4j.train.vae.TrainableVae;
import org.ovis4j.train.vae.VaeActivations;

/**
 * {@code ovis4j train step}: one training step on a batch stored with the keys of the goldens' training
 * vectors (goldens README section 9), writing the loss, the intermediates and every gradient under the
 * same keys, so that a run can be compared with PyTorch key by key from the files alone, as {@code
 * generate --latents} is for inference. The kind of batch is told by its keys:
 *
 * <ul>
 *   <li>flow matching ({@code in.x0}, {@code in.noise}, {@code in.sigma}, {@code in.prompt_embeds},
 *       {@code in.txt_ids}, {@code in.img_ids}): writes {@code x_t}, {@code target}, {@code pred},
 *       {@code loss}, {@code grad.x_t}, {@code grad.prompt_embeds}, {@code grad.<parameter>}; with
 *       {@code in.sigma_sampling.u} also the σ of each sampling rule ({@code sigma_sampling.*});</li>
 *   <li>LoRA (the same and {@code transformer.<module>.lora_A.weight} / {@code lora_B.weight},
 *       {@code hp.rank}, {@code hp.alpha}): the base frozen, {@code grad.transformer.<module>.lora_*};</li>
 *   <li>VAE ({@code in.image}, {@code in.eps}, {@code hp.kl_weight}): the posterior, {@code z},
 *       {@code recon}, {@code rec_loss}, {@code kl}, {@code kl_term}, {@code loss}, {@code grad.image},
 *       {@code grad.posterior_mean}, {@code grad.posterior_logvar}, {@code grad.<parameter>};</li>
 *   <li>Diffusion-DPO ({@code in.x_w}, {@code in.x_l}, {@code in.noise}, {@code in.sigma}, the prompt
 *       embeddings and ids, {@code hp.beta}, optionally {@code ref_delta.<parameter>}): the policy is the
 *       checkpoint, every parameter trained; the reference the checkpoint loaded a second time, frozen,
 *       moved by the deltas if given ({@link DiffusionDpo#reference}). Writes {@code x_t}, {@code pred},
 *       {@code ref_pred}, {@code err_w}, {@code err_l}, {@code ref_err_w}, {@code ref_err_l}, {@code logits},
 *       {@code loss}, {@code grad.<parameter>};</li>
 *   <li>Flow-GRPO ({@code in.x_t}, {@code in.prompt_embeds}, {@code in.negative_prompt_embeds}, ids,
 *       {@code in.sigmas}, {@code in.timesteps}, {@code in.step_index}, {@code in.advantages_raw}, the
 *       policy's LoRA {@code transformer.<module>.lora_*} with {@code hp.lora_scale}, the {@code hp.*}
 *       knobs (flow_grpo's GRPO config where absent), and the transition: {@code in.prev_sample} and
 *       {@code in.old_log_prob}, or {@code in.variance_noise} to sample it): the reference is the policy with its adapters off. Writes, with
 *       {@code in.variance_noise}, the sampling pass {@code sample.*}; the step's {@code sigma},
 *       {@code sigma_next}, {@code sigma_max}, {@code timestep_in}, {@code std_dev_t}; the training pass
 *       {@code noise_pred_uncond}, {@code noise_pred_text}, {@code noise_pred}, {@code prev_sample_mean},
 *       {@code log_prob}, {@code ref.*}; {@code advantages}, {@code ratio}, {@code unclipped_loss},
 *       {@code clipped_loss}, {@code policy_loss}, {@code kl_per_sample}, {@code kl_loss}, {@code loss},
 *       {@code approx_kl}, {@code clipfrac}, {@code grad.transformer.<module>.lora_*}; with
 *       {@code in.adv.rewards} and {@code in.adv.prompt_index} the group advantages {@code adv.*}. The
 *       advantages and the losses built on them are float64, as in flow_grpo (and the golden).</li>
 * </ul>
 *
 * With an AdamW file ({@code hp.lr}, {@code hp.beta1}, {@code hp.beta2}, {@code hp.eps},
 * {@code hp.weight_decay}, {@code hp.max_grad_norm} and a second batch {@code in.step2.*}), a flow-matching
 * or LoRA batch's gradients are clipped and stepped ({@code step1.total_norm}, {@code step1.clip_coef},
 * {@code param1.*}), then the second batch is run at the new weights and stepped too
 * ({@code step2.loss}, {@code step2.total_norm}, {@code step2.clip_coef}, {@code param2.*},
 * {@code exp_avg.*}, {@code exp_avg_sq.*}). The goldens have AdamW vectors for flow matching only, so
 * {@code --adamw} with another kind is refused.
 */
public final class ReferenceStep {
    /** Which computation a batch file asks for. */
    public enum Kind { FLOW_MATCHING, LORA, VAE, DPO, GRPO }

    /** What was run and the loss (of the first batch). */
    public record Summary(Kind kind, double loss, int tensors) {}

    private static final String LORA_PREFIX = "transformer.", REF_DELTA = "ref_delta.";

    private final Path batchFile;
    private final Map<String, Tensor> in;
    private final Map<String, Output> out = new LinkedHashMap<>();

    /** A tensor to write: float32 values (kept by reference, not copied) or raw little-endian bytes. */
    private record Output(DType dtype, long[] shape, float[] floats, byte[] bytes) {}

    private ReferenceStep(Path batchFile, Map<String, Tensor> in) {
        this.batchFile = batchFile;
        this.in = in;
    }

    /** Runs the step of {@code batch} with the model in {@code model} and writes {@code output} (atomically). */
    public static Summary run(Path model, Path batch, Path adamw, Path output) {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> tensors = SafetensorsFile.read(batch, arena).tensors();
            ReferenceStep s = new ReferenceStep(batch, tensors);
            Kind kind = s.kind();
            if (adamw != null && kind != Kind.FLOW_MATCHING && kind != Kind.LORA)
                throw new OvisException(adamw + ": --adamw steps a flow-matching or LoRA batch (the goldens' AdamW vectors); " + batch
                        + " is a " + DESCRIPTION.get(kind) + " batch");
            Map<String, Tensor> opt = adamw == null ? null : SafetensorsFile.read(adamw, arena).tensors();
            double loss = switch (kind) {
                case VAE -> s.vae(model);
                case DPO -> s.dpo(model);
                case GRPO -> s.grpo(model);
                case FLOW_MATCHING, LORA -> s.transformer(model, kind, adamw, opt);
            };
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt").metadata("generator", "ovis4j train step")
                    .metadata("batch", batch.getFileName().toString());
            s.out.forEach((name, o) -> {
                if (o.floats != null) w.addFloats(name, DType.F32, o.shape, o.floats);
                else w.add(name, o.dtype, o.shape, stream -> stream.write(o.bytes));
            });
            w.write(output);
            return new Summary(kind, loss, s.out.size());
        }
    }

    private static final Map<Kind, String> DESCRIPTION = Map.of(Kind.FLOW_MATCHING, "flow-matching", Kind.LORA, "LoRA", Kind.VAE, "VAE",
            Kind.DPO, "Diffusion-DPO", Kind.GRPO, "Flow-GRPO");

    private Kind kind() {
        if (in.containsKey("in.x_w") || in.containsKey("in.x_l")) return Kind.DPO;
        if (in.containsKey("in.variance_noise") || in.containsKey("in.old_log_prob") || in.containsKey("in.prev_sample")) return Kind.GRPO;
        if (in.containsKey("in.image")) return Kind.VAE;
        if (in.containsKey("in.x0")) {
            for (String k : in.keySet()) if (k.startsWith(LORA_PREFIX) && k.endsWith(".lora_A.weight")) return Kind.LORA;
            return Kind.FLOW_MATCHING;
        }
        List<String> found = in.keySet().stream().limit(6).toList();
        throw new OvisException(batchFile + ": not a training batch: expected in.x0 (flow matching, LoRA with transformer.<module>.lora_A.weight), "
                + "in.image (VAE), in.x_w and in.x_l (Diffusion-DPO) or in.x_t with in.prev_sample, in.old_log_prob or in.variance_noise "
                + "(Flow-GRPO); it holds " + (in.isEmpty() ? "no tensors" : String.join(", ", found) + (in.size() > found.size() ? ", ..." : "")));
    }

    private Tensor need(Map<String, Tensor> file, Path where, String name) {
        Tensor t = file.get(name);
        if (t == null) throw new OvisException(where + ": missing tensor " + name);
        return t;
    }

    private Tensor need(String name) {
        return need(in, batchFile, name);
    }

    // ---------------------------------------------------------------- transformer

    private double transformer(Path modelDir, Kind kind, Path adamwFile, Map<String, Tensor> adamw) {
        TrainableTransformer model;
        if (kind == Kind.LORA) {
            int rank = (int) need("hp.rank").getDouble(0);
            double alpha = need("hp.alpha").getDouble(0);
            model = TrainableTransformer.load(modelDir, false, new LoraAdapters(rank, alpha, LoraAdapters.stored(in, LORA_PREFIX)));
        } else {
            model = TrainableTransformer.load(modelDir, true, Adapters.NONE);
        }
        Tensor x0 = need("in.x0");
        if (x0.rank() != 3) throw new OvisException(batchFile + ": in.x0 must be [samples, tokens, channels], got " + Arrays.toString(x0.shape()));
        int b = (int) x0.dim(0), n = (int) x0.dim(1);
        Tensor text = need("in.prompt_embeds");
        int t = (int) text.dim(1);
        float[] txtIds = need("in.txt_ids").toFloats(), imgIds = need("in.img_ids").toFloats();

        FlowStep first = flowStep(model, b, n, t, x0.toFloats(), need("in.noise").toFloats(), need("in.sigma").toFloats(),
                text.toFloats(), txtIds, imgIds);
        put("x_t", x0.shape(), first.xt);
        put("target", x0.shape(), first.target);
        put("pred", x0.shape(), first.pred);
        put("loss", new long[] {1}, new float[] {(float) first.loss});
        put("grad.x_t", x0.shape(), first.inputs.latents());
        put("grad.prompt_embeds", text.shape(), first.inputs.text());
        // copies: clipping scales the gradients in place, and the second batch starts from zero
        for (Parameter p : model.parameters().trainable()) put("grad." + key(kind, p), p.shape(), p.grad().clone());
        if (in.containsKey("in.sigma_sampling.u")) sigmaSampling(modelDir, n);

        if (adamw != null) {
            AdamW.Hyperparameters hp = new AdamW.Hyperparameters(hp(adamw, adamwFile, "lr"), hp(adamw, adamwFile, "beta1"),
                    hp(adamw, adamwFile, "beta2"), hp(adamw, adamwFile, "eps"), hp(adamw, adamwFile, "weight_decay"));
            double maxNorm = hp(adamw, adamwFile, "max_grad_norm");
            AdamW opt = new AdamW(model.parameters(), hp);
            List<Parameter> trainable = model.parameters().trainable();
            GradClip.Result c1 = GradClip.clip(trainable, maxNorm);
            put("step1.total_norm", new long[] {1}, new float[] {c1.totalNorm()});
            put("step1.clip_coef", new long[] {1}, new float[] {c1.coef()});
            opt.step();
            for (Parameter p : trainable) put("param1." + key(kind, p), p.shape(), p.value().clone());

            model.parameters().zeroGrad();
            Map<String, Tensor> ids = adamw.containsKey("in.txt_ids") ? adamw : in;
            Tensor x2 = need(adamw, adamwFile, "in.step2.x0");
            FlowStep second = flowStep(model, (int) x2.dim(0), (int) x2.dim(1), (int) need(adamw, adamwFile, "in.step2.prompt_embeds").dim(1),
                    x2.toFloats(), need(adamw, adamwFile, "in.step2.noise").toFloats(), need(adamw, adamwFile, "in.step2.sigma").toFloats(),
                    need(adamw, adamwFile, "in.step2.prompt_embeds").toFloats(), need(ids, adamwFile, "in.txt_ids").toFloats(),
                    need(ids, adamwFile, "in.img_ids").toFloats());
            put("step2.loss", new long[] {1}, new float[] {(float) second.loss});
            GradClip.Result c2 = GradClip.clip(trainable, maxNorm);
            put("step2.total_norm", new long[] {1}, new float[] {c2.totalNorm()});
            put("step2.clip_coef", new long[] {1}, new float[] {c2.coef()});
            opt.step();
            for (Parameter p : trainable) {
                put("param2." + key(kind, p), p.shape(), p.value());
                put("exp_avg." + key(kind, p), p.shape(), opt.expAvg(p.name()));
                put("exp_avg_sq." + key(kind, p), p.shape(), opt.expAvgSq(p.name()));
            }
        }
        return first.loss;
    }

    /** LoRA tensors are named as in the diffusers LoRA file (transformer.&lt;module&gt;...), the model's own as they are. */
    private static String key(Kind kind, Parameter p) {
        return kind == Kind.LORA ? LORA_PREFIX + p.name() : p.name();
    }

    private static double hp(Map<String, Tensor> file, Path where, String name) {
        Tensor t = file.get("hp." + name);
        if (t == null) throw new OvisException(where + ": missing tensor hp." + name);
        return t.getDouble(0);
    }

    private record FlowStep(float[] xt, float[] target, float[] pred, double loss, InputGradients inputs) {}

    /** Forward and backward of the flow-matching loss (gradients added into the parameters). */
    private FlowStep flowStep(TrainableTransformer model, int b, int n, int t, float[] x0, float[] noise, float[] sigma, float[] text,
                              float[] txtIds, float[] imgIds) {
        float[] xt = FlowMatching.interpolate(x0, noise, sigma), target = FlowMatching.target(x0, noise);
        TransformerPass pass = model.forward(new TransformerBatch(b, n, t, xt, text, sigma, txtIds, imgIds), false);
        double loss = FlowMatching.loss(pass.prediction(), target);
        InputGradients g = model.backward(pass, FlowMatching.lossGradient(pass.prediction(), target));
        return new FlowStep(xt, target, pass.prediction(), loss, g);
    }

    /** σ of every sampling rule for the stored standard-normal draws (goldens README 9.2). */
    private void sigmaSampling(Path modelDir, int imageTokens) {
        Tensor ut = need("in.sigma_sampling.u");
        float[] u = ut.toFloats();
        CheckpointFolder folder = CheckpointFolder.detect(modelDir);
        FlowMatchEulerScheduler sched = folder.schedulerConfig() != null ? FlowMatchEulerScheduler.fromConfig(folder.schedulerConfig())
                : FlowMatchEulerScheduler.defaults();
        SigmaSampler ovis = new SigmaSampler(SigmaSampler.Density.OVIS, 0, 1, sched, 0);
        float[] plain = new float[u.length], official = new float[u.length], discrete = new float[u.length];
        long[] index = new long[u.length];
        for (int i = 0; i < u.length; i++) {
            plain[i] = SigmaSampler.logitNormal(u[i], 0, 1);
            official[i] = ovis.sigma(u[i], imageTokens);
            index[i] = SigmaSampler.discreteIndex(plain[i]);
            discrete[i] = SigmaSampler.discreteSigma((int) index[i]);
        }
        put("sigma_sampling.sigma", ut.shape(), plain);
        put("sigma_sampling.mu", new long[] {1}, DType.F64, le(8).putDouble(sched.mu(imageTokens)).array());
        put("sigma_sampling.sigma_mu", ut.shape(), official);
        ByteBuffer ix = le(8 * index.length);
        for (long v : index) ix.putLong(v);
        put("sigma_sampling.index", ut.shape(), DType.I64, ix.array());
        put("sigma_sampling.sigma_discrete", ut.shape(), discrete);
    }

    // ---------------------------------------------------------------- Diffusion-DPO

    private double dpo(Path modelDir) {
        Tensor xw = need("in.x_w"), xl = need("in.x_l"), text = need("in.prompt_embeds");
        if (xw.rank() != 3 || !Arrays.equals(xw.shape(), xl.shape()))
            throw new OvisException(batchFile + ": in.x_w and in.x_l must be [pairs, tokens, channels] of one shape, got "
                    + Arrays.toString(xw.shape()) + " and " + Arrays.toString(xl.shape()));
        int pairs = (int) xw.dim(0), n = (int) xw.dim(1);
        Map<String, Tensor> deltas = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : in.entrySet())
            if (e.getKey().startsWith(REF_DELTA)) deltas.put(e.getKey().substring(REF_DELTA.length()), e.getValue());
        DiffusionDpo dpo = new DiffusionDpo(need("hp.beta").getDouble(0));
        try (TrainableTransformer policy = TrainableTransformer.load(modelDir); TrainableTransformer ref = DiffusionDpo.reference(modelDir, deltas)) {
            DiffusionDpo.Step s = dpo.forward(policy, ref, new DiffusionDpo.Pairs(pairs, n, (int) text.dim(1), xw.toFloats(), xl.toFloats(),
                    need("in.noise").toFloats(), need("in.sigma").toFloats(), text.toFloats(), need("in.txt_ids").toFloats(),
                    need("in.img_ids").toFloats()), false);
            long[] rows = {2L * pairs, n, xw.dim(2)}, perPair = {pairs};
            put("x_t", rows, s.latents());
            put("pred", rows, s.prediction());
            put("ref_pred", rows, s.referencePrediction());
            double[] err = s.errors(), refErr = s.referenceErrors();
            put("err_w", perPair, floats(Arrays.copyOfRange(err, 0, pairs)));
            put("err_l", perPair, floats(Arrays.copyOfRange(err, pairs, 2 * pairs)));
            put("ref_err_w", perPair, floats(Arrays.copyOfRange(refErr, 0, pairs)));
            put("ref_err_l", perPair, floats(Arrays.copyOfRange(refErr, pairs, 2 * pairs)));
            put("logits", perPair, floats(s.logits()));
            put("loss", new long[] {1}, new float[] {(float) s.loss()});
            s.backward();
            for (Parameter p : policy.parameters().trainable()) put("grad." + p.name(), p.shape(), p.grad());
            return s.loss();
        }
    }

    // ---------------------------------------------------------------- Flow-GRPO

    private double grpo(Path modelDir) {
        Map<String, LoraAdapters.Weights> adapters = LoraAdapters.stored(in, LORA_PREFIX);
        if (adapters.isEmpty())
            throw new OvisException(batchFile + ": a Flow-GRPO batch needs the policy's LoRA (transformer.<module>.lora_A.weight / "
                    + "lora_B.weight and hp.lora_scale): its reference is the policy with the adapters off");
        int rank = LoraAdapters.storedRank(in, LORA_PREFIX);
        FlowGrpo.Settings d = FlowGrpo.Settings.flowGrpo();
        FlowGrpo grpo = new FlowGrpo(new FlowGrpo.Settings(hp("noise_level", d.noiseLevel()), hp("guidance_scale", d.guidanceScale()),
                hp("clip_range", d.clipRange()), hp("adv_clip_max", d.advClipMax()), hp("kl_beta", d.klBeta())));
        Tensor x = need("in.x_t"), text = need("in.prompt_embeds");
        if (x.rank() != 3) throw new OvisException(batchFile + ": in.x_t must be [samples, tokens, channels], got " + Arrays.toString(x.shape()));
        int b = (int) x.dim(0);
        long[] latents = x.shape(), perSample = {b}, one = {1};
        float[] sigmas = need("in.sigmas").toFloats();
        // the pipeline hands the transformer timesteps/1000 (diffusers' OvisImagePipeline divides by 1000 literally)
        Schedule schedule = new Schedule(sigmas, need("in.timesteps").toFloats(), Double.NaN, 1000);
        long[] j = need("in.step_index").toLongs();
        int[] stepIndex = new int[j.length];
        for (int i = 0; i < j.length; i++) stepIndex[i] = Math.toIntExact(j[i]);
        FlowGrpo.StepInput input = new FlowGrpo.StepInput(b, (int) x.dim(1), (int) text.dim(1), x.toFloats(), text.toFloats(),
                need("in.negative_prompt_embeds").toFloats(), need("in.txt_ids").toFloats(), need("in.img_ids").toFloats(), schedule, stepIndex);
        // flow_grpo's file gives the scale alpha/r (hp.lora_scale); a LoRA batch's hp.alpha is taken too
        double alpha = in.containsKey("hp.alpha") ? hp("alpha", Double.NaN) : hp("lora_scale", Double.NaN) * rank;
        LoraAdapters lora = new LoraAdapters(rank, alpha, adapters);
        try (TrainableTransformer policy = TrainableTransformer.load(modelDir, false, lora)) {
            FlowGrpo.Rollout r = null;
            if (in.containsKey("in.variance_noise")) {
                r = grpo.sample(policy, input, need("in.variance_noise").toFloats());
                put("sample.noise_pred", latents, r.velocity());
                put("sample.prev_sample", latents, r.next());
                put("sample.log_prob", perSample, r.logProb());
            }
            float[] next = in.containsKey("in.prev_sample") || r == null ? need("in.prev_sample").toFloats() : r.next();
            float[] oldLogProb = in.containsKey("in.old_log_prob") || r == null ? need("in.old_log_prob").toFloats() : r.logProb();
            SdeStep sde = grpo.sdeStep(input);
            put("sigma", perSample, sde.sigma());
            put("sigma_next", perSample, sde.sigmaNext());
            put("sigma_max", one, new float[] {sigmas[1]});
            float[] t = new float[b];
            for (int i = 0; i < b; i++) t[i] = schedule.modelSigma(stepIndex[i]);
            put("timestep_in", perSample, t);
            put("std_dev_t", perSample, sde.stdDevT());

            FlowGrpo.Step s = grpo.forward(policy, policy.withoutAdapters(), input, next, oldLogProb, doubles(need("in.advantages_raw")), false);
            put("noise_pred_uncond", latents, s.uncondVelocity());
            put("noise_pred_text", latents, s.textVelocity());
            put("noise_pred", latents, s.velocity());
            put("prev_sample_mean", latents, s.mean());
            put("log_prob", perSample, s.logProb());
            if (s.referenceMean() != null) { // β > 0: the reference ran
                put("ref.noise_pred", latents, s.referenceVelocity());
                put("ref.prev_sample_mean", latents, s.referenceMean());
                put("ref.log_prob", perSample, s.referenceLogProb());
            }
            putDoubles("advantages", perSample, s.advantages());
            put("ratio", perSample, s.ratio());
            putDoubles("unclipped_loss", perSample, s.unclippedLoss());
            putDoubles("clipped_loss", perSample, s.clippedLoss());
            putDoubles("policy_loss", one, new double[] {s.policyLoss()});
            put("kl_per_sample", perSample, s.klPerSample());
            put("kl_loss", one, new float[] {s.klLoss()});
            putDoubles("loss", one, new double[] {s.loss()});
            put("approx_kl", one, new float[] {s.approxKl()});
            put("clipfrac", one, new float[] {s.clipFraction()});
            if (in.containsKey("in.adv.rewards")) {
                double[] rewards = doubles(need("in.adv.rewards"));
                long[] pi = need("in.adv.prompt_index").toLongs();
                int[] prompt = new int[pi.length];
                for (int i = 0; i < pi.length; i++) prompt[i] = Math.toIntExact(pi[i]);
                putDoubles("adv.advantages_global_std", new long[] {rewards.length}, GrpoAdvantages.compute(rewards, prompt, true));
                putDoubles("adv.advantages_group_std", new long[] {rewards.length}, GrpoAdvantages.compute(rewards, prompt, false));
            }
            s.backward();
            for (Parameter p : policy.parameters().trainable()) put("grad." + LORA_PREFIX + p.name(), p.shape(), p.grad());
            return s.loss();
        }
    }

    /** A hyper-parameter of the batch ({@code hp.<name>}), or {@code fallback} when it has none (NaN: required). */
    private double hp(String name, double fallback) {
        Tensor t = in.get("hp." + name);
        if (t != null) return t.getDouble(0);
        if (Double.isNaN(fallback)) throw new OvisException(batchFile + ": missing tensor hp." + name);
        return fallback;
    }

    private static double[] doubles(Tensor t) {
        double[] d = new double[Math.toIntExact(t.numel())];
        for (int i = 0; i < d.length; i++) d[i] = t.getDouble(i);
        return d;
    }

    private static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    // ---------------------------------------------------------------- VAE

    private double vae(Path modelDir) {
        TrainableVae vae = TrainableVae.load(modelDir);
        Tensor image = need("in.image"), eps = need("in.eps");
        if (image.rank() != 4) throw new OvisException(batchFile + ": in.image must be [samples, 3, height, width], got "
                + Arrays.toString(image.shape()));
        VaeActivations a = vae.newActivations((int) image.dim(0), (int) image.dim(2), (int) image.dim(3));
        double klWeight = in.containsKey("hp.kl_weight") ? in.get("hp.kl_weight").getDouble(0) : VaeLoss.GOLDEN_KL_WEIGHT;
        VaeLoss.Value v = new VaeLoss(klWeight).step(vae, a, image.toFloats(), eps.toFloats());
        long[] latent = {a.batch(), a.latentChannels(), a.latentHeight(), a.latentWidth()};
        put("posterior_mean", latent, a.posteriorMeanNchw());
        put("posterior_logvar", latent, a.posteriorLogvarNchw());
        put("posterior_std", latent, a.posteriorStdNchw());
        put("z", latent, a.zNchw());
        put("recon", image.shape(), a.reconNchw());
        put("rec_loss", new long[] {1}, new float[] {(float) v.recLoss()});
        float[] kl = new float[v.kl().length];
        for (int i = 0; i < kl.length; i++) kl[i] = (float) v.kl()[i];
        put("kl", new long[] {kl.length}, kl);
        put("kl_term", new long[] {1}, new float[] {(float) v.klTerm()});
        put("loss", new long[] {1}, new float[] {(float) v.loss()});
        put("grad.image", image.shape(), a.imageGradNchw());
        put("grad.posterior_mean", latent, a.meanGradNchw());
        put("grad.posterior_logvar", latent, a.logvarGradNchw());
        for (Parameter p : vae.parameters()) put("grad." + p.name(), p.shape(), p.grad());
        return v.loss();
    }

    // ---------------------------------------------------------------- output

    private void put(String name, long[] shape, float[] values) {
        if (Tensor.numel(shape) != values.length) throw new IllegalStateException(name + ": shape does not match its values");
        out.put(name, new Output(DType.F32, shape.clone(), values, null));
    }

    private void put(String name, long[] shape, DType dtype, byte[] bytes) {
        if (Tensor.numel(shape) * dtype.bytes != bytes.length) throw new IllegalStateException(name + ": shape does not match its values");
        out.put(name, new Output(dtype, shape.clone(), null, bytes));
    }

    /** Float64 values, for what flow_grpo keeps in float64 (the advantages and the losses built on them). */
    private void putDoubles(String name, long[] shape, double[] values) {
        ByteBuffer b = le(8 * values.length);
        for (double v : values) b.putDouble(v);
        put(name, shape, DType.F64, b.array());
    }

    private static ByteBuffer le(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
