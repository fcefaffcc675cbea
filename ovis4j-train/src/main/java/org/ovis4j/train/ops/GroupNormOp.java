package org.ovis4j.train.ops;

import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.parallel.Parallel;

/**
 * GroupNorm with per-channel affine weight γ and bias β over a batch of channels-last maps
 * x [B, P, C] (P pixels), optionally followed by SiLU (as everywhere in the VAE but the attention):
 *
 * <pre>
 *   x̂ = (x − μ_bg)·ρ_bg,   ρ = 1/sqrt(σ² + eps)   (μ, σ² over the P·C/G values of sample b, group g)
 *   t = x̂·γ + β,           y = t  or  y = SiLU(t)
 * </pre>
 *
 * The forward keeps μ and ρ per (sample, group), float32 [B·G]; {@link #apply} rebuilds y from x with
 * them (bit for bit the forward's y), which is how the backward gets a convolution's input back
 * without storing it. The backward (for dt = dy·SiLU'(t), or dy):
 *
 * <pre>
 *   dβ += Σ dt,   dγ += Σ dt·x̂,   dx̂ = dt·γ
 *   dx += ρ·(dx̂ − mean_group(dx̂) − x̂·mean_group(dx̂·x̂))
 * </pre>
 *
 * Statistics and reductions are per-channel double sums over fixed chunks of pixels, combined in
 * chunk order: the results do not depend on the thread count.
 */
public final class GroupNormOp {
    /** Pixels per task. */
    private static final int CHUNK = 256;

    private final int channels, groups, perGroup;
    private final float eps;
    private final boolean silu;

    public GroupNormOp(int channels, int groups, float eps, boolean silu) {
        if (channels <= 0 || groups <= 0 || channels % groups != 0)
            throw new IllegalArgumentException("group norm: " + channels + " channels in " + groups + " groups");
        this.channels = channels;
        this.groups = groups;
        this.perGroup = channels / groups;
        this.eps = eps;
        this.silu = silu;
    }

    public int channels() { return channels; }
    public int groups() { return groups; }

    /** Values of μ (and of ρ) for a batch: B·G. */
    public int statsSize(int batch) { return batch * groups; }

    /** y [B, P, C] = act(GN(x)); mean and rstd [B·G] receive μ and ρ. y may be x (in place). */
    public void forward(float[] x, int batch, int pixels, float[] gamma, float[] beta, float[] y, float[] mean, float[] rstd) {
        int chunks = (pixels + CHUNK - 1) / CHUNK, c = channels;
        double[] sums = new double[batch * chunks * c];
        Parallel.forEach(batch * chunks, task -> {
            int b = task / chunks, p0 = (task % chunks) * CHUNK, p1 = Math.min(pixels, p0 + CHUNK), o = task * c;
            for (int p = p0; p < p1; p++)
                for (int ch = 0, i = (b * pixels + p) * c; ch < c; ch++, i++) sums[o + ch] += x[i];
        });
        double n = (double) pixels * perGroup;
        double[] mu = new double[batch * groups];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < chunks; t++)
                for (int ch = 0; ch < c; ch++) mu[b * groups + ch / perGroup] += sums[(b * chunks + t) * c + ch];
        for (int i = 0; i < mu.length; i++) mu[i] /= n;
        // Second pass about the mean: no cancellation, whatever the offset of the data.
        java.util.Arrays.fill(sums, 0);
        Parallel.forEach(batch * chunks, task -> {
            int b = task / chunks, p0 = (task % chunks) * CHUNK, p1 = Math.min(pixels, p0 + CHUNK), o = task * c;
            for (int p = p0; p < p1; p++)
                for (int ch = 0, i = (b * pixels + p) * c; ch < c; ch++, i++) {
                    double d = x[i] - mu[b * groups + ch / perGroup];
                    sums[o + ch] += d * d;
                }
        });
        double[] var = new double[batch * groups];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < chunks; t++)
                for (int ch = 0; ch < c; ch++) var[b * groups + ch / perGroup] += sums[(b * chunks + t) * c + ch];
        for (int i = 0; i < var.length; i++) {
            mean[i] = (float) mu[i];
            rstd[i] = (float) (1.0 / Math.sqrt(var[i] / n + eps));
        }
        apply(x, batch, pixels, gamma, beta, mean, rstd, y);
    }

    /** y = act(GN(x)) with the statistics a {@link #forward} saved. y may be x (in place). */
    public void apply(float[] x, int batch, int pixels, float[] gamma, float[] beta, float[] mean, float[] rstd, float[] y) {
        int chunks = (pixels + CHUNK - 1) / CHUNK, c = channels;
        Parallel.forEach(batch * chunks, task -> {
            int b = task / chunks, p0 = (task % chunks) * CHUNK, p1 = Math.min(pixels, p0 + CHUNK);
            for (int p = p0; p < p1; p++)
                for (int ch = 0, i = (b * pixels + p) * c; ch < c; ch++, i++) {
                    int g = b * groups + ch / perGroup;
                    float t = (x[i] - mean[g]) * rstd[g] * gamma[ch] + beta[ch];
                    y[i] = silu ? Activations.silu(t) : t;
                }
        });
    }

    /**
     * Given dy at the output of {@link #forward} (after the activation), adds the gradients to dx
     * [B, P, C], dGamma and dBeta [C]. x, gamma, beta, mean, rstd are the forward's.
     */
    public void backward(float[] x, int batch, int pixels, float[] gamma, float[] beta, float[] mean, float[] rstd,
                         float[] dy, float[] dx, float[] dGamma, float[] dBeta) {
        int chunks = (pixels + CHUNK - 1) / CHUNK, c = channels;
        double[] sumDt = new double[batch * chunks * c], sumDtXh = new double[batch * chunks * c];
        Parallel.forEach(batch * chunks, task -> {
            int b = task / chunks, p0 = (task % chunks) * CHUNK, p1 = Math.min(pixels, p0 + CHUNK), o = task * c;
            for (int p = p0; p < p1; p++)
                for (int ch = 0, i = (b * pixels + p) * c; ch < c; ch++, i++) {
                    int g = b * groups + ch / perGroup;
                    float xh = (x[i] - mean[g]) * rstd[g];
                    float dt = outputGrad(xh, gamma[ch], beta[ch], dy[i]);
                    sumDt[o + ch] += dt;
                    sumDtXh[o + ch] += (double) dt * xh;
                }
        });
        // Per channel over the batch (dγ, dβ) and per (sample, group) weighted by γ (the x̂ terms).
        double[] channelDt = new double[batch * c], channelDtXh = new double[batch * c];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < chunks; t++)
                for (int ch = 0; ch < c; ch++) {
                    channelDt[b * c + ch] += sumDt[(b * chunks + t) * c + ch];
                    channelDtXh[b * c + ch] += sumDtXh[(b * chunks + t) * c + ch];
                }
        double n = (double) pixels * perGroup;
        float[] meanDxh = new float[batch * groups], meanDxhXh = new float[batch * groups];
        for (int b = 0; b < batch; b++)
            for (int g = 0; g < groups; g++) {
                double s1 = 0, s2 = 0;
                for (int ch = g * perGroup; ch < (g + 1) * perGroup; ch++) {
                    s1 += gamma[ch] * channelDt[b * c + ch];
                    s2 += gamma[ch] * channelDtXh[b * c + ch];
                }
                meanDxh[b * groups + g] = (float) (s1 / n);
                meanDxhXh[b * groups + g] = (float) (s2 / n);
            }
        if (dGamma != null || dBeta != null)
            for (int ch = 0; ch < c; ch++) {
                double sg = 0, sb = 0;
                for (int b = 0; b < batch; b++) {
                    sg += channelDtXh[b * c + ch];
                    sb += channelDt[b * c + ch];
                }
                if (dGamma != null) dGamma[ch] += (float) sg;
                if (dBeta != null) dBeta[ch] += (float) sb;
            }
        if (dx == null) return;
        Parallel.forEach(batch * chunks, task -> {
            int b = task / chunks, p0 = (task % chunks) * CHUNK, p1 = Math.min(pixels, p0 + CHUNK);
            for (int p = p0; p < p1; p++)
                for (int ch = 0, i = (b * pixels + p) * c; ch < c; ch++, i++) {
                    int g = b * groups + ch / perGroup;
                    float xh = (x[i] - mean[g]) * rstd[g];
                    float dxh = outputGrad(xh, gamma[ch], beta[ch], dy[i]) * gamma[ch];
                    dx[i] += rstd[g] * (dxh - meanDxh[g] - xh * meanDxhXh[g]);
                }
        });
    }

    /** dt from dy: through SiLU'(t) = σ(t)·(1 + t·(1 − σ(t))) when the activation is on. */
    private float outputGrad(float xh, float gamma, float beta, float dy) {
        if (!silu) return dy;
        float t = xh * gamma + beta;
        float e = (float) Math.exp(-Math.abs(t));
        float sig = t >= 0 ? 1f / (1f + e) : e / (1f + e);
        return dy * sig * (1f + t * (1f - sig));
    }
}
