package org.ovis4j.train.loss;

import org.ovis4j.core.OvisException;
import org.ovis4j.schedule.FlowMatchEulerScheduler.Schedule;
import org.ovis4j.train.dit.InputGradients;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.dit.TransformerBatch;
import org.ovis4j.train.dit.TransformerPass;

/**
 * Flow-GRPO (spec 9.6), as yifan123/flow_grpo's {@code train_sd3.py} computes it: rollouts with the
 * SDE sampler and their log-probabilities ({@link #sample}), then, per stored transition x → x', the
 * clipped policy-gradient surrogate with a KL penalty towards a reference ({@link #forward}):
 *
 * <pre>
 *   v         = u + g·(t − u)          one call on [x; x] with [negative; prompt] embeddings, u detached
 *   log p     = {@link SdeStep} log-probability of the stored x' under the mean from v
 *   A         = clamp(advantage, −adv_clip_max, adv_clip_max)                         (float64)
 *   ratio     = exp(log p − log p_old)
 *   policy    = mean_b max(−A·ratio, −A·clamp(ratio, 1 − ε, 1 + ε))                    (float64)
 *   kl_b      = mean over elements of (mean − mean_ref)² / (2·std_dev_t²)
 *   loss      = policy + β·mean_b kl_b
 * </pre>
 *
 * The reference is the policy with its LoRA adapters switched off
 * ({@link TrainableTransformer#withoutAdapters()}, flow_grpo's {@code disable_adapter()}), run without
 * gradient; with β = 0 it is not run at all (flow_grpo's base config). Values flow_grpo keeps in float32
 * (log-probabilities, ratio, KL terms) are float32 here; the advantages and the policy loss are
 * float64, as numpy hands them over; every gradient is formed in double.
 */
public final class FlowGrpo {
    /**
     * flow_grpo's training knobs.
     *
     * @param noiseLevel    the SDE's a (config {@code sample.noise_level}, 0.7)
     * @param guidanceScale classifier-free guidance g during sampling and training (4.5)
     * @param clipRange     the ratio's clip range ε (1e-4)
     * @param advClipMax    |A| bound (5)
     * @param klBeta        β of the KL term (0 in the base config, 0.04 in the OCR / GenEval configs)
     */
    public record Settings(double noiseLevel, double guidanceScale, double clipRange, double advClipMax, double klBeta) {
        public Settings {
            if (!(noiseLevel > 0) || !(guidanceScale > 0) || !(clipRange > 0) || !(advClipMax > 0) || !(klBeta >= 0)
                    || !Double.isFinite(noiseLevel + guidanceScale + clipRange + advClipMax + klBeta))
                throw new OvisException("Flow-GRPO: settings must be positive (beta non-negative): " + this);
        }

        /** flow_grpo's GRPO config (config/grpo.py over config/base.py): 0.7, 4.5, 1e-4, 5, β 0.04. */
        public static Settings flowGrpo() {
            return new Settings(0.7, 4.5, 1e-4, 5, 0.04);
        }
    }

    /**
     * B trajectories at one SDE step each: latents x [B, N, C], prompt and negative-prompt embeddings
     * [B, T, width], and for each sample its step in {@code schedule} (the pipeline's, see
     * {@link org.ovis4j.schedule.FlowMatchEulerScheduler#schedule}).
     */
    public record StepInput(int samples, int imageTokens, int textTokens, float[] latents, float[] text, float[] negativeText,
                            float[] txtIds, float[] imgIds, Schedule schedule, int[] stepIndex) {
        public StepInput {
            if (stepIndex.length != samples) throw new OvisException("Flow-GRPO: " + stepIndex.length + " step indices for " + samples + " samples");
            if (text.length != negativeText.length)
                throw new OvisException("Flow-GRPO: prompt (" + text.length + ") and negative prompt (" + negativeText.length
                        + ") embeddings differ in size");
            stepIndex = stepIndex.clone();
        }

        /** [x; x] at the step's timesteps, [negative; prompt]: the one classifier-free-guidance call. */
        TransformerBatch guidanceBatch() {
            float[] t = new float[2 * samples];
            for (int b = 0; b < samples; b++) {
                if (stepIndex[b] < 0 || stepIndex[b] >= schedule.steps())
                    throw new OvisException("Flow-GRPO: step index " + stepIndex[b] + " of sample " + b + " is outside the schedule's "
                            + schedule.steps() + " steps");
                t[b] = t[samples + b] = schedule.modelSigma(stepIndex[b]); // timesteps[j]/1000, what the transformer is given
            }
            return new TransformerBatch(2 * samples, imageTokens, textTokens, stack(latents, latents), stack(negativeText, text), t,
                    txtIds, imgIds);
        }
    }

    /** One sampled SDE step: the guided velocity, the mean, the draw x' and log p(x'). */
    public record Rollout(float[] velocity, float[] mean, float[] next, float[] logProb) {}

    private final Settings settings;

    public FlowGrpo(Settings settings) {
        this.settings = settings;
    }

    public Settings settings() {
        return settings;
    }

    /** The SDE step of {@code in}'s samples with this objective's noise level. */
    public SdeStep sdeStep(StepInput in) {
        return SdeStep.of(in.schedule().sigmas(), in.stepIndex(), settings.noiseLevel());
    }

    /** A rollout step (no gradient): x' = mean + s·ε drawn with the given standard-normal noise. */
    public Rollout sample(TrainableTransformer policy, StepInput in, float[] noise) {
        float[] v = guide(policy.forward(in.guidanceBatch(), true).prediction(), (float) settings.guidanceScale());
        SdeStep sde = sdeStep(in);
        float[] mean = sde.mean(in.latents(), v), next = sde.sample(mean, noise);
        return new Rollout(v, mean, next, sde.logProb(next, mean));
    }

    /**
     * The loss of stored transitions in → next under the policy (keeping its activations, or only
     * block inputs when {@code recompute}) and, when β &gt; 0, the reference.
     *
     * @param oldLogProb the log-probabilities recorded when the transitions were sampled [B]
     * @param advantages one per sample, before clamping (float64, e.g. {@link GrpoAdvantages})
     */
    public Step forward(TrainableTransformer policy, TrainableTransformer reference, StepInput in, float[] next, float[] oldLogProb,
                        double[] advantages, boolean recompute) {
        int b = in.samples();
        if (oldLogProb.length != b || advantages.length != b)
            throw new OvisException("Flow-GRPO: " + oldLogProb.length + " old log-probabilities and " + advantages.length
                    + " advantages for " + b + " samples");
        if (settings.klBeta() > 0 && reference == null) throw new OvisException("Flow-GRPO: a KL term (beta > 0) needs a reference model");
        if (reference == policy) throw new OvisException("Flow-GRPO: the reference must be the policy without adapters, not the policy");
        TransformerBatch batch = in.guidanceBatch();
        TransformerPass pass = policy.forward(batch, recompute);
        float[] ref = settings.klBeta() > 0 ? reference.forward(batch, true).prediction() : null;
        return new Step(policy, pass, pass.prediction(), in, next, oldLogProb, advantages, ref);
    }

    /** The step from given predictions [u; t] of the policy and (or null) of the reference, without a model to backpropagate into. */
    Step evaluate(float[] both, float[] refBoth, StepInput in, float[] next, float[] oldLogProb, double[] advantages) {
        return new Step(null, null, both, in, next, oldLogProb, advantages, refBoth);
    }

    /** One evaluated training step; {@link #backward} adds its gradients into the policy. */
    public final class Step {
        private final TrainableTransformer policy;
        private final TransformerPass pass;
        private final SdeStep sde;
        private final int samples;
        private final float[] next, uncond, text, velocity, mean, logProb;
        private final float[] refVelocity, refMean, refLogProb; // null without a KL term
        private final float[] ratio, klPerSample;
        private final double[] advantages, unclipped, clipped;
        private final double policyLoss, loss;
        private final float klLoss, approxKl, clipFraction;

        private Step(TrainableTransformer policy, TransformerPass pass, float[] both, StepInput in, float[] next, float[] oldLogProb,
                     double[] rawAdvantages, float[] refBoth) {
            this.policy = policy;
            this.pass = pass;
            this.next = next;
            samples = in.samples();
            sde = sdeStep(in);
            float g = (float) settings.guidanceScale();
            int half = both.length / 2;
            uncond = java.util.Arrays.copyOfRange(both, 0, half);
            text = java.util.Arrays.copyOfRange(both, half, both.length);
            velocity = guide(both, g);
            mean = sde.mean(in.latents(), velocity);
            logProb = sde.logProb(next, mean);
            if (refBoth != null) {
                refVelocity = guide(refBoth, g);
                refMean = sde.mean(in.latents(), refVelocity);
                refLogProb = sde.logProb(next, refMean);
            } else {
                refVelocity = refMean = refLogProb = null;
            }

            advantages = new double[samples];
            ratio = new float[samples];
            unclipped = new double[samples];
            clipped = new double[samples];
            float lo = (float) (1.0 - settings.clipRange()), hi = (float) (1.0 + settings.clipRange());
            double policySum = 0, klSum = 0, sq = 0;
            int outside = 0;
            float[] std = sde.stdDevT();
            klPerSample = new float[samples];
            int per = mean.length / samples;
            for (int b = 0; b < samples; b++) {
                advantages[b] = Math.max(-settings.advClipMax(), Math.min(settings.advClipMax(), rawAdvantages[b]));
                float diff = logProb[b] - oldLogProb[b];
                ratio[b] = (float) Math.exp(diff);
                unclipped[b] = -advantages[b] * ratio[b];
                clipped[b] = -advantages[b] * Math.max(lo, Math.min(hi, ratio[b]));
                policySum += Math.max(unclipped[b], clipped[b]);
                sq += (double) diff * diff;
                if (Math.abs(ratio[b] - 1f) > (float) settings.clipRange()) outside++;
                if (refMean != null) {
                    double s = 0;
                    for (int i = b * per, e = i + per; i < e; i++) {
                        double d = (double) mean[i] - refMean[i];
                        s += d * d;
                    }
                    klPerSample[b] = (float) (s / per) / (2f * (std[b] * std[b]));
                    klSum += klPerSample[b];
                }
            }
            policyLoss = policySum / samples;
            klLoss = (float) (klSum / samples);
            loss = policyLoss + settings.klBeta() * klLoss;
            approxKl = (float) (0.5 * sq / samples);
            clipFraction = (float) outside / samples;
        }

        /** The policy's unconditional half u [B, N, C] (detached). */
        public float[] uncondVelocity() { return uncond; }
        /** The policy's prompt half t [B, N, C]. */
        public float[] textVelocity() { return text; }
        /** v = u + g·(t − u) [B, N, C]. */
        public float[] velocity() { return velocity; }
        /** prev_sample_mean [B, N, C]. */
        public float[] mean() { return mean; }
        public float[] stdDevT() { return sde.stdDevT(); }
        public float[] logProb() { return logProb; }
        /** The reference's guided velocity, mean and log-probability (null when β = 0). */
        public float[] referenceVelocity() { return refVelocity; }
        public float[] referenceMean() { return refMean; }
        public float[] referenceLogProb() { return refLogProb; }
        /** The clamped advantages. */
        public double[] advantages() { return advantages.clone(); }
        public float[] ratio() { return ratio.clone(); }
        /** −A·ratio and −A·clamp(ratio) per sample. */
        public double[] unclippedLoss() { return unclipped.clone(); }
        public double[] clippedLoss() { return clipped.clone(); }
        public double policyLoss() { return policyLoss; }
        /** kl_b (zeros without a reference). */
        public float[] klPerSample() { return klPerSample.clone(); }
        public float klLoss() { return klLoss; }
        public double loss() { return loss; }
        /** ½·mean_b (log p − log p_old)²: a monitor, not part of the loss. */
        public float approxKl() { return approxKl; }
        /** The fraction of samples whose ratio left [1 − ε, 1 + ε]. */
        public float clipFraction() { return clipFraction; }

        /**
         * Adds d loss / d parameter into the policy's gradients (from {@link #predictionGradient});
         * returns the gradients of its inputs.
         */
        public InputGradients backward() {
            if (pass == null) throw new IllegalStateException("this step was evaluated without a model");
            return policy.backward(pass, predictionGradient());
        }

        /**
         * d loss / d prediction [u; t]; the unconditional rows' are zero (u is detached), which costs a
         * backward over rows that carry no gradient, the price of flow_grpo's one call on [x; x].
         * d loss / d ratio_b = −A_b/B where the unclipped term is the maximum (torch.maximum splits
         * ties in halves, which clamp passes on inside its range: the whole), else 0;
         * d ratio / d log p = ratio; then through
         * {@link SdeStep#logProbGradient}, plus β·(mean − mean_ref)/(std_dev_t²·M·B) from the KL
         * term, to v by {@link SdeStep#velocityGradient} and to t by the factor g.
         */
        float[] predictionGradient() {
            double[] dLogProb = new double[samples];
            for (int b = 0; b < samples; b++)
                if (unclipped[b] >= clipped[b]) dLogProb[b] = -advantages[b] / samples * ratio[b];
            double[] dMean = sde.logProbGradient(next, mean, dLogProb);
            if (refMean != null) {
                float[] std = sde.stdDevT();
                int per = mean.length / samples;
                for (int b = 0; b < samples; b++) {
                    double k = settings.klBeta() / ((double) std[b] * std[b] * per * samples);
                    for (int i = b * per, e = i + per; i < e; i++) dMean[i] += k * ((double) mean[i] - refMean[i]);
                }
            }
            double[] dv = sde.velocityGradient(dMean);
            float[] dBoth = new float[2 * dv.length]; // [uncond (detached): 0; text]
            double g = (float) settings.guidanceScale();
            for (int i = 0; i < dv.length; i++) dBoth[dv.length + i] = (float) (g * dv[i]);
            return dBoth;
        }
    }

    /** v = u + g·(t − u) from one prediction [u; t] [2B, ...], float32 as PyTorch evaluates it. */
    static float[] guide(float[] both, float g) {
        int half = both.length / 2;
        float[] v = new float[half];
        for (int i = 0; i < half; i++) v[i] = both[i] + g * (both[half + i] - both[i]);
        return v;
    }

    private static float[] stack(float[] a, float[] b) {
        float[] s = new float[a.length + b.length];
        System.arraycopy(a, 0, s, 0, a.length);
        System.arraycopy(b, 0, s, a.length, b.length);
        return s;
    }
}
