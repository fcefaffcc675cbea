package org.ovis4j.train.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.VectorMath;
import org.ovis4j.core.parallel.Parallel;

/**
 * GroupNorm with per-channel affine weight γ and bias β over a batch of channels-last maps
 * x [B, P, C] (P pixels), optionally followed by SiLU (as everywhere in the VAE but the attention):
 *
 * <pre>
 *   μ, σ² over the P·C/G values of sample b, group g;   ρ = 1/sqrt(σ² + eps)
 *   t = x·a + s  with  a = ρ·γ, s = β − μ·a        (PyTorch's CPU kernel computes it the same way)
 *   y = t  or  y = SiLU(t)
 * </pre>
 *
 * The forward keeps μ and ρ per (sample, group), float32 [B·G]; {@link #apply} rebuilds y from x with
 * them (bit for bit the forward's y), which is how the backward gets a convolution's input back
 * without storing it. The backward, with x̂ = (x − μ)·ρ and dt = dy·SiLU'(t) (or dy):
 *
 * <pre>
 *   dβ += Σ dt,   dγ += Σ dt·x̂,   dx̂ = dt·γ
 *   dx += ρ·(dx̂ − mean_group(dx̂) − x̂·mean_group(dx̂·x̂))
 * </pre>
 *
 * <p>Work is split into fixed chunks of pixels of one sample. Inside a chunk the rows [pixels, C] are
 * one contiguous run of values, walked a vector at a time; the per-channel constants are laid out in
 * a period of lcm(C, lanes) values so that any C vectorises. Sums are float within a chunk (≤ 256
 * values per lane) and double across chunks, combined in chunk order: the results do not depend on
 * the thread count.
 */
public final class GroupNormOp {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Pixels per task. */
    private static final int CHUNK = 256;

    private final int channels, groups, perGroup, period;
    private final float eps;
    private final boolean silu;

    public GroupNormOp(int channels, int groups, float eps, boolean silu) {
        if (channels <= 0 || groups <= 0 || channels % groups != 0)
            throw new IllegalArgumentException("group norm: " + channels + " channels in " + groups + " groups");
        this.channels = channels;
        this.groups = groups;
        this.perGroup = channels / groups;
        this.period = lcm(channels, L);
        this.eps = eps;
        this.silu = silu;
    }

    private static int lcm(int a, int b) {
        int x = a, y = b;
        while (y != 0) {
            int t = x % y;
            x = y;
            y = t;
        }
        return a / x * b;
    }

    public int channels() { return channels; }
    public int groups() { return groups; }

    /** Values of μ (and of ρ) for a batch: B·G. */
    public int statsSize(int batch) { return batch * groups; }

    /** A per-channel value repeated over the period: pattern[j] = perChannel[off + j mod C]. */
    private float[] pattern(float[] perChannel, int off) {
        float[] p = new float[period];
        for (int j = 0; j < period; j++) p[j] = perChannel[off + j % channels];
        return p;
    }

    /** Per-(sample, group) values spread over the sample's channels: out[b·C + c] = v[b·G + c / (C/G)]. */
    private float[] perChannel(float[] v, int batch) {
        float[] out = new float[batch * channels];
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++) out[b * channels + c] = v[b * groups + c / perGroup];
        return out;
    }

    /** Adds lane sums (in the period layout) into a chunk's per-channel double sums. */
    private void fold(float[] lanes, double[] sums, int off) {
        for (int j = 0; j < period; j++) sums[off + j % channels] += lanes[j];
    }

    /** Sums per (sample, group) of per-(chunk, channel) sums. */
    private double[] groupSums(double[] chunkSums, int batch, int chunks) {
        double[] g = new double[batch * groups];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < chunks; t++)
                for (int c = 0; c < channels; c++) g[b * groups + c / perGroup] += chunkSums[(b * chunks + t) * channels + c];
        return g;
    }

    /** y [B, P, C] = act(GN(x)); mean and rstd [B·G] receive μ and ρ. y may be x (in place). */
    public void forward(float[] x, int batch, int pixels, float[] gamma, float[] beta, float[] y, float[] mean, float[] rstd) {
        int chunks = (pixels + CHUNK - 1) / CHUNK, c = channels;
        double[] sums = new double[batch * chunks * c];
        Parallel.forEach(batch * chunks, task -> {
            int b = task / chunks, p0 = (task % chunks) * CHUNK, p1 = Math.min(pixels, p0 + CHUNK);
            int i0 = (b * pixels + p0) * c, n = (p1 - p0) * c;
            float[] acc = new float[period];
            int off = 0;
            for (; off + L <= n; off += L) {
                int j = off % period;
                FloatVector.fromArray(S, acc, j).add(FloatVector.fromArray(S, x, i0 + off)).intoArray(acc, j);
            }
            for (; off < n; off++) acc[off % period] += x[i0 + off];
            fold(acc, sums, task * c);
        });
        double n = (double) pixels * perGroup;
        double[] mu = groupSums(sums, batch, chunks);
        float[] muF = new float[batch * groups];
        for (int i = 0; i < mu.length; i++) muF[i] = (float) (mu[i] / n);
        // Second pass about the (float) mean: no cancellation, whatever the offset of the data.
        float[] muC = perChannel(muF, batch);
        java.util.Arrays.fill(sums, 0);
        Parallel.forEach(batch * chunks, task -> {
            int b = task / chunks, p0 = (task % chunks) * CHUNK, p1 = Math.min(pixels, p0 + CHUNK);
            int i0 = (b * pixels + p0) * c, cnt = (p1 - p0) * c;
            float[] m = pattern(muC, b * c), acc = new float[period];
            int off = 0;
            for (; off + L <= cnt; off += L) {
                int j = off % period;
                FloatVector d = FloatVector.fromArray(S, x, i0 + off).sub(FloatVector.fromArray(S, m, j));
                d.fma(d, FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
            }
            for (; off < cnt; off++) {
                float d = x[i0 + off] - m[off % period];
                acc[off % period] += d * d;
            }
            fold(acc, sums, task * c);
        });
        double[] var = groupSums(sums, batch, chunks);
        for (int i = 0; i < var.length; i++) {
            mean[i] = muF[i];
            rstd[i] = (float) (1.0 / Math.sqrt(var[i] / n + eps));
        }
        apply(x, batch, pixels, gamma, beta, mean, rstd, y);
    }

    /** a[b·C + c] = ρ·γ_c and s[b·C + c] = β_c − μ·a, per sample. */
    private float[][] affine(int batch, float[] gamma, float[] beta, float[] mean, float[] rstd) {
        float[] a = new float[batch * channels], s = new float[batch * channels];
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++) {
                int g = b * groups + c / perGroup, i = b * channels + c;
                a[i] = rstd[g] * gamma[c];
                s[i] = beta[c] - mean[g] * a[i];
            }
        return new float[][] {a, s};
    }

    /** y = act(GN(x)) with the statistics a {@link #forward} saved. y may be x (in place). */
    public void apply(float[] x, int batch, int pixels, float[] gamma, float[] beta, float[] mean, float[] rstd, float[] y) {
        int chunks = (pixels + CHUNK - 1) / CHUNK, c = channels;
        float[][] as = affine(batch, gamma, beta, mean, rstd);
        Parallel.forEach(batch * chunks, task -> {
            int b = task / chunks, p0 = (task % chunks) * CHUNK, p1 = Math.min(pixels, p0 + CHUNK);
            int i0 = (b * pixels + p0) * c, n = (p1 - p0) * c;
            float[] a = pattern(as[0], b * c), s = pattern(as[1], b * c);
            int off = 0;
            for (; off + L <= n; off += L) {
                int j = off % period;
                FloatVector t = FloatVector.fromArray(S, x, i0 + off).mul(FloatVector.fromArray(S, a, j)).add(FloatVector.fromArray(S, s, j));
                (silu ? t.mul(VectorMath.sigmoid(t)) : t).intoArray(y, i0 + off);
            }
            for (; off < n; off++) {
                int j = off % period;
                float t = x[i0 + off] * a[j] + s[j];
                y[i0 + off] = silu ? Activations.silu(t) : t;
            }
        });
    }

    /**
     * Given dy at the output of {@link #forward} (after the activation), adds the gradients to dx
     * [B, P, C] (null: not wanted), dGamma and dBeta [C] (null: not wanted). x, gamma, beta, mean,
     * rstd are the forward's.
     */
    public void backward(float[] x, int batch, int pixels, float[] gamma, float[] beta, float[] mean, float[] rstd,
                         float[] dy, float[] dx, float[] dGamma, float[] dBeta) {
        int chunks = (pixels + CHUNK - 1) / CHUNK, c = channels;
        float[][] as = affine(batch, gamma, beta, mean, rstd);
        float[] muC = perChannel(mean, batch), rhoC = perChannel(rstd, batch);
        double[] sumDt = new double[batch * chunks * c], sumDtXh = new double[batch * chunks * c];
        Parallel.forEach(batch * chunks, task -> {
            int b = task / chunks, p0 = (task % chunks) * CHUNK, p1 = Math.min(pixels, p0 + CHUNK);
            int i0 = (b * pixels + p0) * c, n = (p1 - p0) * c;
            float[] a = pattern(as[0], b * c), s = pattern(as[1], b * c), m = pattern(muC, b * c), r = pattern(rhoC, b * c);
            float[] accDt = new float[period], accDtXh = new float[period];
            int off = 0;
            for (; off + L <= n; off += L) {
                int j = off % period;
                FloatVector xv = FloatVector.fromArray(S, x, i0 + off);
                FloatVector dt = outputGrad(xv, FloatVector.fromArray(S, a, j), FloatVector.fromArray(S, s, j),
                        FloatVector.fromArray(S, dy, i0 + off));
                FloatVector xh = xv.sub(FloatVector.fromArray(S, m, j)).mul(FloatVector.fromArray(S, r, j));
                FloatVector.fromArray(S, accDt, j).add(dt).intoArray(accDt, j);
                dt.fma(xh, FloatVector.fromArray(S, accDtXh, j)).intoArray(accDtXh, j);
            }
            for (; off < n; off++) {
                int j = off % period;
                float xv = x[i0 + off];
                float dt = outputGrad(xv, a[j], s[j], dy[i0 + off]);
                accDt[j] += dt;
                accDtXh[j] += dt * ((xv - m[j]) * r[j]);
            }
            fold(accDt, sumDt, task * c);
            fold(accDtXh, sumDtXh, task * c);
        });
        // Per channel over the batch (dγ, dβ) and per (sample, group) weighted by γ (the x̂ terms).
        double[] channelDt = new double[batch * c], channelDtXh = new double[batch * c];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < chunks; t++)
                for (int ch = 0; ch < c; ch++) {
                    channelDt[b * c + ch] += sumDt[(b * chunks + t) * c + ch];
                    channelDtXh[b * c + ch] += sumDtXh[(b * chunks + t) * c + ch];
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
        float[] k1 = perChannel(meanDxh, batch), k2 = perChannel(meanDxhXh, batch);
        float[] gammaB = new float[batch * c];
        for (int b = 0; b < batch; b++) System.arraycopy(gamma, 0, gammaB, b * c, c);
        Parallel.forEach(batch * chunks, task -> {
            int b = task / chunks, p0 = (task % chunks) * CHUNK, p1 = Math.min(pixels, p0 + CHUNK);
            int i0 = (b * pixels + p0) * c, cnt = (p1 - p0) * c;
            float[] a = pattern(as[0], b * c), s = pattern(as[1], b * c), m = pattern(muC, b * c), r = pattern(rhoC, b * c);
            float[] gm = pattern(gammaB, b * c), q1 = pattern(k1, b * c), q2 = pattern(k2, b * c);
            int off = 0;
            for (; off + L <= cnt; off += L) {
                int j = off % period, i = i0 + off;
                FloatVector xv = FloatVector.fromArray(S, x, i), rv = FloatVector.fromArray(S, r, j);
                FloatVector dt = outputGrad(xv, FloatVector.fromArray(S, a, j), FloatVector.fromArray(S, s, j),
                        FloatVector.fromArray(S, dy, i));
                FloatVector xh = xv.sub(FloatVector.fromArray(S, m, j)).mul(rv);
                FloatVector inner = dt.mul(FloatVector.fromArray(S, gm, j)).sub(FloatVector.fromArray(S, q1, j))
                        .sub(xh.mul(FloatVector.fromArray(S, q2, j)));
                FloatVector.fromArray(S, dx, i).add(rv.mul(inner)).intoArray(dx, i);
            }
            for (; off < cnt; off++) {
                int j = off % period, i = i0 + off;
                float xv = x[i], xh = (xv - m[j]) * r[j];
                float dt = outputGrad(xv, a[j], s[j], dy[i]);
                dx[i] += r[j] * (dt * gm[j] - q1[j] - xh * q2[j]);
            }
        });
    }

    /** dt from dy: through SiLU'(t) = σ(t)·(1 + t·(1 − σ(t))) when the activation is on; t = x·a + s. */
    private FloatVector outputGrad(FloatVector x, FloatVector a, FloatVector s, FloatVector dy) {
        return silu ? dy.mul(SiluOp.derivative(x.mul(a).add(s))) : dy;
    }

    private float outputGrad(float x, float a, float s, float dy) {
        return silu ? dy * SiluOp.derivative(x * a + s) : dy;
    }
}
