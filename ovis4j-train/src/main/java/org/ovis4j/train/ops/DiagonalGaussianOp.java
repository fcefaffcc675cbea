package org.ovis4j.train.ops;

import org.ovis4j.core.parallel.Parallel;

/**
 * The VAE encoder's diagonal Gaussian posterior and its reparameterised sample (diffusers'
 * DiagonalGaussianDistribution), over channels-last moments [rows, 2L] (rows = B·h·w pixels; mean
 * in channels 0…L−1, log-variance in L…2L−1):
 *
 * <pre>
 *   mean = m[:, :L],   logvar = clamp(m[:, L:], −30, 20),   std = exp(logvar / 2),   z = mean + std·ε
 * </pre>
 *
 * Backward: d mean += dz, d logvar += dz·ε·std/2, and the moments' gradient is d mean, and d logvar
 * where the clamp let the value through (bounds included, as torch.clamp), 0 elsewhere.
 */
public final class DiagonalGaussianOp {
    public static final float LOGVAR_MIN = -30f, LOGVAR_MAX = 20f;
    private static final int CHUNK = 1024;

    private DiagonalGaussianOp() {}

    /** mean, logvar, std, z [rows, L] from moments [rows, 2L] and ε [rows, L]. */
    public static void forward(float[] moments, int rows, int latent, float[] eps,
                               float[] mean, float[] logvar, float[] std, float[] z) {
        Parallel.forEach((rows + CHUNK - 1) / CHUNK, t -> {
            for (int r = t * CHUNK, e = Math.min(rows, r + CHUNK); r < e; r++)
                for (int c = 0; c < latent; c++) {
                    int i = r * latent + c, m = r * 2 * latent + c;
                    float lv = Math.clamp(moments[m + latent], LOGVAR_MIN, LOGVAR_MAX);
                    float s = (float) Math.exp(0.5f * lv);
                    mean[i] = moments[m];
                    logvar[i] = lv;
                    std[i] = s;
                    z[i] = moments[m] + s * eps[i];
                }
        });
    }

    /**
     * Adds the sample's path to dMean and dLogvar [rows, L] (which may already hold other terms, e.g.
     * the KL divergence's; afterwards they are the total gradients at the posterior's mean and clamped
     * log-variance), then writes dMoments [rows, 2L].
     */
    public static void backward(float[] moments, int rows, int latent, float[] std, float[] eps, float[] dz,
                                float[] dMean, float[] dLogvar, float[] dMoments) {
        Parallel.forEach((rows + CHUNK - 1) / CHUNK, t -> {
            for (int r = t * CHUNK, e = Math.min(rows, r + CHUNK); r < e; r++)
                for (int c = 0; c < latent; c++) {
                    int i = r * latent + c, m = r * 2 * latent + c;
                    dMean[i] += dz[i];
                    dLogvar[i] += dz[i] * eps[i] * std[i] * 0.5f;
                    float raw = moments[m + latent];
                    dMoments[m] = dMean[i];
                    dMoments[m + latent] = raw >= LOGVAR_MIN && raw <= LOGVAR_MAX ? dLogvar[i] : 0f;
                }
        });
    }
}
