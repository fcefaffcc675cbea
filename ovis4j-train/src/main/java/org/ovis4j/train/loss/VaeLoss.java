package org.ovis4j.train.loss;

import org.ovis4j.train.vae.TrainableVae;
import org.ovis4j.train.vae.VaeActivations;

/**
 * The VAE objective of the goldens (spec 9.4): L1 reconstruction plus a weighted KL divergence of the
 * posterior from the standard normal,
 *
 * <pre>
 *   rec_loss = mean |recon − x|                                 (over all B·C·H·W values)
 *   kl_b     = ½·Σ_{c,h,w} (mean² + exp(logvar) − 1 − logvar)   (diffusers DiagonalGaussianDistribution.kl())
 *   kl_term  = mean_b (kl_b / M),  M = L·h·w
 *   loss     = rec_loss + kl_weight·kl_term                       (kl_weight 1e-3 in the goldens)
 * </pre>
 *
 * Gradients: d/d recon = sign(recon − x)/N, which is 0 where recon == x (torch's sign, hence its L1
 * gradient); the same with the opposite sign reaches x as the target; d/d mean = w·mean/(B·M) and
 * d/d logvar = w·(exp(logvar) − 1)/(2·B·M). Sums are in double.
 */
public final class VaeLoss {
    /** The KL weight of the goldens (training/vae.safetensors {@code hp.kl_weight}). */
    public static final double GOLDEN_KL_WEIGHT = 1e-3;

    private final double klWeight;

    public VaeLoss(double klWeight) {
        if (!(klWeight >= 0) || Double.isInfinite(klWeight)) throw new IllegalArgumentException("kl weight " + klWeight);
        this.klWeight = klWeight;
    }

    /** The loss and its parts; {@code kl} holds kl_b per sample. */
    public record Value(double loss, double recLoss, double klTerm, double[] kl) {}

    /**
     * One step's forward and backward: runs the model on images [B, C, H, W] with ε [B, L, h, w], computes
     * the loss, and leaves every parameter's gradient added to its {@code grad} and the image's gradient
     * (both paths: through the encoder, and as the L1 target) in {@link VaeActivations#imageGrad()}.
     */
    public Value step(TrainableVae vae, VaeActivations a, float[] imageNchw, float[] epsNchw) {
        vae.forward(a, imageNchw, epsNchw);
        Value v = lossAndSeeds(a);
        vae.backward(a);
        return v;
    }

    /**
     * The loss of a forward held in {@code a}, writing the gradient seeds: at the reconstruction, at the
     * posterior mean and log-variance, and at the image as the L1 target (overwriting imageGrad).
     */
    public Value lossAndSeeds(VaeActivations a) {
        double rec = l1(a.recon(), a.image(), a.reconGrad(), a.imageGrad());
        int perSample = a.latentChannels() * a.latentHeight() * a.latentWidth();
        double[] kl = kl(a.posteriorMean(), a.posteriorLogvar(), a.batch(), perSample, klWeight, a.meanGrad(), a.logvarGrad());
        double term = 0;
        for (double k : kl) term += k / perSample;
        term /= a.batch();
        return new Value(rec + klWeight * term, rec, term, kl);
    }

    /**
     * mean |recon − target|; writes dRecon = sign(recon − target)/N and dTarget = −dRecon (either may be
     * null). Arrays of the same layout; N = recon.length.
     */
    public static double l1(float[] recon, float[] target, float[] dRecon, float[] dTarget) {
        int n = recon.length;
        if (target.length != n) throw new IllegalArgumentException("l1: " + n + " vs " + target.length + " values");
        float inv = (float) (1.0 / n);
        double s = 0;
        for (int i = 0; i < n; i++) {
            float d = recon[i] - target[i];
            s += Math.abs(d);
            float g = Math.signum(d) * inv;
            if (dRecon != null) dRecon[i] = g;
            if (dTarget != null) dTarget[i] = -g;
        }
        return s / n;
    }

    /**
     * kl_b for each of {@code batch} samples of {@code perSample} consecutive values (any layout within
     * a sample), and the gradients of weight·mean_b(kl_b / perSample) into dMean and dLogvar (overwritten).
     */
    public static double[] kl(float[] mean, float[] logvar, int batch, int perSample, double weight, float[] dMean, float[] dLogvar) {
        if (mean.length != batch * perSample || logvar.length != mean.length)
            throw new IllegalArgumentException("kl: " + mean.length + " values for " + batch + " x " + perSample);
        double[] kl = new double[batch];
        float coef = (float) (weight / ((double) batch * perSample));
        for (int b = 0; b < batch; b++) {
            double s = 0;
            for (int i = b * perSample, e = i + perSample; i < e; i++) {
                float var = (float) Math.exp(logvar[i]);
                s += (double) mean[i] * mean[i] + var - 1.0 - logvar[i];
                dMean[i] = coef * mean[i];
                dLogvar[i] = 0.5f * coef * (var - 1f);
            }
            kl[b] = 0.5 * s;
        }
        return kl;
    }
}
