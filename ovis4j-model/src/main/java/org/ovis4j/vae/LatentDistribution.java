package org.ovis4j.vae;

/**
 * The encoder's diagonal Gaussian over latents (diffusers' DiagonalGaussianDistribution), both CHW
 * [channels, h, w]: {@code logvar} is already clamped to [−30, 20].
 */
public record LatentDistribution(float[] mean, float[] logvar, int channels, int h, int w) {
    public static final float LOGVAR_MIN = -30f, LOGVAR_MAX = 20f;

    /** exp(logvar / 2). */
    public float[] std() {
        float[] s = new float[logvar.length];
        for (int i = 0; i < s.length; i++) s[i] = (float) Math.exp(0.5 * logvar[i]);
        return s;
    }

    /** mean + std · noise for standard normal noise of the same shape. */
    public float[] sample(float[] noise) {
        if (noise.length != mean.length)
            throw new IllegalArgumentException("noise has " + noise.length + " values, expected " + mean.length);
        float[] std = std(), z = new float[mean.length];
        for (int i = 0; i < z.length; i++) z[i] = mean[i] + std[i] * noise[i];
        return z;
    }
}
