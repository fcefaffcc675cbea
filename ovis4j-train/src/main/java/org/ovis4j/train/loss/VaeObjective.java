package org.ovis4j.train.loss;

import org.ovis4j.train.vae.TrainableVae;
import org.ovis4j.train.vae.VaeActivations;

/**
 * The VAE training objective: {@link VaeLoss}'s L1 + KL (spec 9.4), plus two optional terms for text,
 *
 * <pre>
 *   loss = mean |r − x| + kl·kl_term
 *        + l2·mean (r − x)²                                        (squared error: punishes the large misses L1 tolerates)
 *        + g·( mean |∂x r − ∂x x| + mean |∂y r − ∂y x| )             (∂x v = v[y, x+1] − v[y, x], per channel)
 * </pre>
 *
 * Why these and not LDM's LPIPS + GAN: a perceptual loss needs a pretrained network ovis4j does not have,
 * and a GAN doubles the cost of a step. Text is thin strokes on flat backgrounds; a blurry reconstruction
 * loses few L1 points on a stroke a pixel or two wide while OCR loses the letter. The finite-difference
 * term compares edges directly, so a blurred or displaced stroke costs as much as its edges' contrast,
 * which is what legibility depends on. Gradients (torch's conventions: sign(0) = 0) are written into the
 * activations' reconstruction seed and checked against finite differences in {@code VaeObjectiveTest}.
 *
 * @see VaeLoss
 */
public final class VaeObjective {
    /** Weights of the terms; all zero but L1 (weight 1) is {@link VaeLoss} itself. */
    public record Weights(double kl, double l2, double gradient) {
        public Weights {
            if (!(kl >= 0 && l2 >= 0 && gradient >= 0) || Double.isInfinite(kl + l2 + gradient))
                throw new IllegalArgumentException("vae loss weights must be finite and non-negative: " + kl + ", " + l2 + ", " + gradient);
        }
    }

    /** The loss and its parts (each unweighted). */
    public record Value(double loss, double l1, double kl, double l2, double gradient) {}

    private final Weights weights;
    private final VaeLoss base;

    public VaeObjective(Weights weights) {
        this.weights = weights;
        this.base = new VaeLoss(weights.kl());
    }

    public Weights weights() { return weights; }

    /** Forward, loss and seeds; the caller runs {@link TrainableVae#backward} when the loss is finite. */
    public Value forward(TrainableVae vae, VaeActivations a, float[] imageNchw, float[] epsNchw) {
        vae.forward(a, imageNchw, epsNchw);
        return lossAndSeeds(a);
    }

    /**
     * The loss of the forward held in {@code a}; writes the seeds at the reconstruction and the posterior.
     * (The image's gradient as a target is VaeLoss's L1 part only: training does not need it.)
     */
    public Value lossAndSeeds(VaeActivations a) {
        VaeLoss.Value v = base.lossAndSeeds(a);
        float[] r = a.recon(), x = a.image(), g = a.reconGrad();
        double l2 = 0, grad = 0;
        if (weights.l2() > 0) l2 = squaredError(r, x, weights.l2(), g);
        if (weights.gradient() > 0) {
            int w = a.width(), h = a.height(), b = a.batch(), c = r.length / (b * h * w);
            grad = edgeL1(r, x, b, h, w, c, 1, 0, weights.gradient(), g) + edgeL1(r, x, b, h, w, c, 0, 1, weights.gradient(), g);
        }
        double loss = v.loss() + weights.l2() * l2 + weights.gradient() * grad;
        return new Value(loss, v.recLoss(), v.klTerm(), l2, grad);
    }

    /** mean (r − x)², adding weight·d/dr of it to {@code dr}. */
    static double squaredError(float[] r, float[] x, double weight, float[] dr) {
        int n = r.length;
        float coef = (float) (2 * weight / n);
        double s = 0;
        for (int i = 0; i < n; i++) {
            float d = r[i] - x[i];
            s += (double) d * d;
            dr[i] += coef * d;
        }
        return s / n;
    }

    /**
     * mean over the B·H'·W'·C differences of |(r[p + o] − r[p]) − (x[p + o] − x[p])|, where o is one pixel
     * right (dx = 1) or down (dy = 1) in channels-last [B, H, W, C]; adds weight·d/dr of it to {@code dr}.
     */
    static double edgeL1(float[] r, float[] x, int b, int h, int w, int c, int dx, int dy, double weight, float[] dr) {
        int hh = h - dy, ww = w - dx, offset = (dy * w + dx) * c;
        long n = (long) b * hh * ww * c;
        if (n == 0) return 0;
        float coef = (float) (weight / n);
        double s = 0;
        for (int k = 0; k < b; k++)
            for (int y = 0; y < hh; y++)
                for (int xx = 0; xx < ww; xx++) {
                    int p = ((k * h + y) * w + xx) * c;
                    for (int ch = 0; ch < c; ch++, p++) {
                        float d = (r[p + offset] - r[p]) - (x[p + offset] - x[p]);
                        s += Math.abs(d);
                        float gr = Math.signum(d) * coef;
                        dr[p + offset] += gr;
                        dr[p] -= gr;
                    }
                }
        return s / n;
    }
}
