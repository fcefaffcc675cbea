package org.ovis4j.train.loss;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.train.dit.Adapters;
import org.ovis4j.train.dit.InputGradients;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.dit.TransformerBatch;
import org.ovis4j.train.dit.TransformerPass;
import org.ovis4j.train.param.Parameter;

/**
 * Diffusion-DPO for flow matching (spec 9.5; Wallace et al. 2023 with the velocity error in place of
 * the ε error, as flow_grpo's {@code train_sd3_dpo.py} computes it). A preference pair (winner, loser)
 * of one prompt shares noise and σ; both go through the policy and through a frozen reference as one
 * batch [winners; losers]:
 *
 * <pre>
 *   err(row)  = mean over the row's elements of (v(x_σ) − (ε − x))²        (policy; ref_err: the reference)
 *   logits_p  = −(β/2)·((err_w − ref_err_w) − (err_l − ref_err_l))
 *   loss      = mean over pairs of −log σ(logits_p)
 * </pre>
 *
 * <p>The interpolation and the target are float32 element-wise, as PyTorch evaluates them; the errors,
 * logits and loss are reduced in double: the loss is a β-amplified difference of nearly equal errors
 * (err − ref_err is ~1e-3 of err), where float32 sums alone would cost ~5e-4 relative in the logits.
 * The gradient flows into the policy only; the reference is run without keeping activations.
 */
public final class DiffusionDpo {
    private final double beta;

    /** @param beta the DPO temperature β (flow_grpo's DPO config: 100; diffusers' SDXL script: 5000) */
    public DiffusionDpo(double beta) {
        if (!(beta > 0) || !Double.isFinite(beta)) throw new OvisException("Diffusion-DPO: beta must be positive, got " + beta);
        this.beta = beta;
    }

    public double beta() {
        return beta;
    }

    /**
     * Preference pairs: pair p's winner and loser latents x0 [imageTokens, channels] share noise, σ and
     * prompt embeddings.
     *
     * @param winners [pairs, imageTokens, channels] clean packed latents of the preferred images
     * @param losers  the same for the rejected images
     * @param noise   [pairs, imageTokens, channels], shared by the pair
     * @param sigmas  [pairs]
     * @param text    [pairs, textTokens, width] prompt embeddings
     */
    public record Pairs(int pairs, int imageTokens, int textTokens, float[] winners, float[] losers, float[] noise,
                        float[] sigmas, float[] text, float[] txtIds, float[] imgIds) {
        public Pairs {
            if (pairs <= 0) throw new OvisException("Diffusion-DPO: no preference pairs");
            if (winners.length != losers.length || winners.length != noise.length || winners.length % pairs != 0)
                throw new OvisException("Diffusion-DPO: winners (" + winners.length + "), losers (" + losers.length + ") and noise ("
                        + noise.length + ") must have one equal size per pair");
            if (sigmas.length != pairs) throw new OvisException("Diffusion-DPO: " + sigmas.length + " sigmas for " + pairs + " pairs");
            if (text.length % pairs != 0) throw new OvisException("Diffusion-DPO: " + text.length + " text values for " + pairs + " pairs");
        }

        /** [a; b] along the sample axis. */
        private static float[] stack(float[] a, float[] b) {
            float[] s = new float[a.length + b.length];
            System.arraycopy(a, 0, s, 0, a.length);
            System.arraycopy(b, 0, s, a.length, b.length);
            return s;
        }
    }

    /**
     * The losses of one batch of pairs under the policy and the reference, ready for {@link #backward}.
     * Rows 0 … P−1 of the [2P, ...] arrays are the winners, rows P … 2P−1 the losers.
     */
    public final class Step {
        private final TrainableTransformer policy;
        private final TransformerPass pass;
        private final int pairs;
        private final float[] latents, target, referencePrediction;
        private final double[] err, refErr, logits;
        private final double loss;

        private Step(TrainableTransformer policy, TransformerPass pass, int pairs, float[] latents, float[] target,
                     float[] referencePrediction) {
            this.policy = policy;
            this.pass = pass;
            this.pairs = pairs;
            this.latents = latents;
            this.target = target;
            this.referencePrediction = referencePrediction;
            err = rowErrors(pass.prediction(), target, 2 * pairs);
            refErr = rowErrors(referencePrediction, target, 2 * pairs);
            logits = DiffusionDpo.logits(err, refErr, pairs, beta);
            loss = DiffusionDpo.loss(logits);
        }

        /** x_σ [2P, N, C] = [winners; losers] noised with the pair's noise and σ. */
        public float[] latents() { return latents; }
        /** ε − x0 [2P, N, C]. */
        public float[] target() { return target; }
        /** The policy's velocity [2P, N, C]. */
        public float[] prediction() { return pass.prediction(); }
        /** The reference's velocity [2P, N, C]. */
        public float[] referencePrediction() { return referencePrediction; }
        /** The policy's per-row mean squared errors, winners then losers [2P]. */
        public double[] errors() { return err.clone(); }
        /** The reference's, likewise. */
        public double[] referenceErrors() { return refErr.clone(); }
        /** −(β/2)·((err_w − ref_err_w) − (err_l − ref_err_l)) per pair. */
        public double[] logits() { return logits.clone(); }
        public double loss() { return loss; }

        /**
         * Adds d loss / d parameter into the policy's gradients (see {@link #predictionGradient}) and
         * returns the gradients of its inputs.
         */
        public InputGradients backward() {
            float[] dPred = predictionGradient(pass.prediction(), target, logits, pairs, beta);
            return policy.backward(pass, dPred);
        }
    }

    /**
     * Runs the pairs through the policy (keeping its activations, or only block inputs when
     * {@code recompute}) and through the reference (no gradient), and computes the loss.
     *
     * @param reference a frozen model: a copy of the policy as training began or, for a LoRA policy, its
     *                  {@link TrainableTransformer#withoutAdapters() adapters-off view}
     */
    public Step forward(TrainableTransformer policy, TrainableTransformer reference, Pairs pairs, boolean recompute) {
        if (policy == reference) throw new OvisException("Diffusion-DPO: the reference must be a frozen copy of the policy, not the policy");
        float[] x0 = Pairs.stack(pairs.winners(), pairs.losers()), noise = Pairs.stack(pairs.noise(), pairs.noise());
        float[] sigmas = Pairs.stack(pairs.sigmas(), pairs.sigmas()), text = Pairs.stack(pairs.text(), pairs.text());
        float[] latents = FlowMatching.interpolate(x0, noise, sigmas), target = FlowMatching.target(x0, noise);
        TransformerBatch batch = new TransformerBatch(2 * pairs.pairs(), pairs.imageTokens(), pairs.textTokens(), latents, text,
                sigmas, pairs.txtIds(), pairs.imgIds());
        TransformerPass pass = policy.forward(batch, recompute);
        // the reference needs its prediction only: recomputation mode keeps just the block inputs
        float[] ref = reference.forward(batch, true).prediction();
        return new Step(policy, pass, pairs.pairs(), latents, target, ref);
    }

    /**
     * The frozen reference of a DPO run: the checkpoint loaded a second time, every weight a float32 copy,
     * moved by {@code deltas} (by parameter name) to float32(w + float32(delta)) when there are any, as
     * the goldens' reference is made (README 9.6: BF16 deltas of 1.5e-4·N(0, 1), so that the policy's and
     * the reference's errors differ at the start and the logits are not all 0). Without deltas it is the
     * policy as training begins, Diffusion-DPO's usual reference. Deltas come for every parameter or none:
     * a partial set would leave a reference that is neither.
     */
    public static TrainableTransformer reference(Path checkpoint, Map<String, Tensor> deltas) {
        TrainableTransformer ref = TrainableTransformer.load(checkpoint, false, Adapters.NONE, false);
        if (deltas.isEmpty()) return ref;
        int moved = 0;
        for (Parameter p : ref.parameters()) {
            Tensor delta = deltas.get(p.name());
            if (delta == null) throw new OvisException("Diffusion-DPO reference: no delta for " + p.name() + " (deltas are given for "
                    + deltas.size() + " of the parameters; give all or none)");
            if (!Arrays.equals(p.shape(), delta.shape()))
                throw new OvisException("Diffusion-DPO reference: the delta of " + p.name() + " is " + Arrays.toString(delta.shape())
                        + ", the parameter " + Arrays.toString(p.shape()));
            float[] w = p.value(), d = delta.toFloats();
            for (int i = 0; i < w.length; i++) w[i] = w[i] + d[i];
            moved++;
        }
        if (moved != deltas.size()) {
            Set<String> names = new HashSet<>(deltas.keySet());
            for (Parameter p : ref.parameters()) names.remove(p.name());
            throw new OvisException("Diffusion-DPO reference: deltas for parameters the model does not have: " + names);
        }
        return ref;
    }

    /** mean over each of {@code rows} equal rows of (prediction − target)², in double. */
    static double[] rowErrors(float[] prediction, float[] target, int rows) {
        int per = target.length / rows;
        double[] err = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int i = r * per, e = i + per; i < e; i++) {
                double d = (double) prediction[i] - target[i];
                s += d * d;
            }
            err[r] = s / per;
        }
        return err;
    }

    /** −(β/2)·((err_w − ref_err_w) − (err_l − ref_err_l)) per pair; rows [winners; losers]. */
    static double[] logits(double[] err, double[] refErr, int pairs, double beta) {
        double[] z = new double[pairs];
        for (int p = 0; p < pairs; p++) z[p] = -0.5 * beta * ((err[p] - refErr[p]) - (err[pairs + p] - refErr[pairs + p]));
        return z;
    }

    /** mean over pairs of −log σ(z) = log(1 + e^(−z)). */
    static double loss(double[] logits) {
        double s = 0;
        for (double z : logits) s += softplus(-z);
        return s / logits.length;
    }

    /**
     * d loss / d prediction. With z = logits: d loss / d z_p = −σ(−z_p)/P, d z_p / d err_w = −β/2 =
     * −d z_p / d err_l, and d err / d v = 2·(v − u)/M over the row's M elements.
     */
    static float[] predictionGradient(float[] prediction, float[] target, double[] logits, int pairs, double beta) {
        int per = target.length / (2 * pairs);
        float[] g = new float[prediction.length];
        for (int p = 0; p < pairs; p++) {
            double dErrW = sigmoid(-logits[p]) / pairs * (0.5 * beta); // d loss / d err_w; d loss / d err_l is its negative
            for (int side = 0; side < 2; side++) {
                int r = side == 0 ? p : pairs + p;
                double k = (side == 0 ? dErrW : -dErrW) * 2.0 / per;
                for (int i = r * per, e = i + per; i < e; i++) g[i] = (float) (k * ((double) prediction[i] - target[i]));
            }
        }
        return g;
    }

    /** log(1 + e^x) without overflow or loss of precision at either end. */
    static double softplus(double x) {
        return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }
}
