package org.ovis4j.train.loss;

import org.ovis4j.core.OvisException;

/**
 * One step σ → σ' of Flow-GRPO's SDE sampler with its log-probability (spec 9.6; flow_grpo
 * {@code sde_step_with_logprob}, type "sde"), for a batch whose samples may sit at different steps of
 * one schedule. With dt = σ' − σ (&lt; 0), noise level a and velocity v:
 *
 * <pre>
 *   std_dev_t = a·√(σ / (1 − σ̃)),  σ̃ = σ except at σ = 1, where σ̃ = sigmas[1] (flow_grpo's sigma_max)
 *   mean      = x·(1 + std_dev_t²/(2σ)·dt) + v·(1 + std_dev_t²·(1 − σ)/(2σ))·dt
 *   x'        = mean + s·ε,   s = std_dev_t·√(−dt)
 *   log p     = mean over the sample's elements of −(x' − mean)²/(2s²) − log s − log √(2π)
 * </pre>
 *
 * Element-wise values are float32 in PyTorch's order of operations (so the coefficients have the
 * reference's bits); the means over elements are summed in double. The layout of a sample's elements
 * does not matter (packed [N, 64] or [C, H, W]): every formula is per sample or per element.
 */
public final class SdeStep {
    private final int samples;
    private final float[] sigma, sigmaNext, dt, std, s, xCoef, vCoef, logS;
    /** log √(2π) of float32 π, as {@code torch.log(torch.sqrt(2 * torch.as_tensor(math.pi)))}. */
    private static final float LOG_SQRT_2PI = (float) Math.log((float) Math.sqrt(2f * (float) Math.PI));

    private SdeStep(float[] sigmas, int[] stepIndex, double noiseLevel) {
        if (sigmas.length < 2) throw new OvisException("SDE step: the schedule needs at least 2 sigmas, got " + sigmas.length);
        if (!(noiseLevel > 0) || !Double.isFinite(noiseLevel))
            throw new OvisException("SDE step: the noise level must be positive, got " + noiseLevel);
        samples = stepIndex.length;
        sigma = new float[samples];
        sigmaNext = new float[samples];
        dt = new float[samples];
        std = new float[samples];
        s = new float[samples];
        xCoef = new float[samples];
        vCoef = new float[samples];
        logS = new float[samples];
        float sigmaMax = sigmas[1], a = (float) noiseLevel;
        for (int b = 0; b < samples; b++) {
            int j = stepIndex[b];
            if (j < 0 || j + 1 >= sigmas.length)
                throw new OvisException("SDE step: step index " + j + " of sample " + b + " is outside the schedule's " + (sigmas.length - 1)
                        + " steps");
            float sg = sigmas[j], next = sigmas[j + 1], d = next - sg;
            if (!(d < 0)) throw new OvisException("SDE step: sigma must decrease, step " + j + " goes from " + sg + " to " + next);
            sigma[b] = sg;
            sigmaNext[b] = next;
            dt[b] = d;
            float sd = sqrt(sg / (1f - (sg == 1f ? sigmaMax : sg))) * a;
            std[b] = sd;
            float var = sd * sd;
            xCoef[b] = 1f + var / (2f * sg) * d;
            vCoef[b] = 1f + var * (1f - sg) / (2f * sg);
            s[b] = sd * sqrt(-1f * d);
            logS[b] = (float) Math.log(s[b]);
        }
    }

    /**
     * For each sample b, the step from sigmas[stepIndex[b]] to sigmas[stepIndex[b] + 1] of a schedule
     * (steps + 1 sigmas, the last 0, as the pipeline makes them).
     */
    public static SdeStep of(float[] sigmas, int[] stepIndex, double noiseLevel) {
        return new SdeStep(sigmas, stepIndex.clone(), noiseLevel);
    }

    private static float sqrt(float x) {
        return (float) Math.sqrt(x); // correctly rounded in float: double has more than twice the bits
    }

    public int samples() { return samples; }
    public float[] sigma() { return sigma.clone(); }
    public float[] sigmaNext() { return sigmaNext.clone(); }
    /** σ' − σ per sample. */
    public float[] dt() { return dt.clone(); }
    /** std_dev_t per sample. */
    public float[] stdDevT() { return std.clone(); }

    private int perSample(float[] x) {
        if (x.length % samples != 0 || x.length == 0)
            throw new OvisException("SDE step: " + x.length + " latent values for " + samples + " samples");
        return x.length / samples;
    }

    /** The mean of x' given x and the velocity v (prev_sample_mean). */
    public float[] mean(float[] x, float[] v) {
        int per = perSample(x);
        if (v.length != x.length) throw new OvisException("SDE step: velocity has " + v.length + " values, latents " + x.length);
        float[] m = new float[x.length];
        for (int b = 0; b < samples; b++) {
            float cx = xCoef[b], cv = vCoef[b], d = dt[b];
            for (int i = b * per, e = i + per; i < e; i++) m[i] = x[i] * cx + v[i] * cv * d;
        }
        return m;
    }

    /** A draw x' = mean + s·ε from standard-normal noise ε. */
    public float[] sample(float[] mean, float[] noise) {
        int per = perSample(mean);
        if (noise.length != mean.length) throw new OvisException("SDE step: noise has " + noise.length + " values, latents " + mean.length);
        float[] x = new float[mean.length];
        for (int b = 0; b < samples; b++)
            for (int i = b * per, e = i + per; i < e; i++) x[i] = mean[i] + s[b] * noise[i];
        return x;
    }

    /** log p(next | mean) per sample: float32 terms, their mean summed in double. */
    public float[] logProb(float[] next, float[] mean) {
        int per = perSample(mean);
        if (next.length != mean.length) throw new OvisException("SDE step: next latents have " + next.length + " values, means " + mean.length);
        float[] lp = new float[samples];
        for (int b = 0; b < samples; b++) {
            float twoVar = 2f * (s[b] * s[b]);
            double sum = 0;
            for (int i = b * per, e = i + per; i < e; i++) {
                float r = next[i] - mean[i];
                sum += -(r * r) / twoVar - logS[b] - LOG_SQRT_2PI;
            }
            lp[b] = (float) (sum / per);
        }
        return lp;
    }

    /**
     * d (Σ_b w_b·log p_b) / d mean = w_b·(next − mean)/(s²·M) for the M elements of sample b (next is
     * a constant, as flow_grpo detaches it), in double.
     */
    public double[] logProbGradient(float[] next, float[] mean, double[] weight) {
        int per = perSample(mean);
        double[] g = new double[mean.length];
        for (int b = 0; b < samples; b++) {
            double k = weight[b] / ((double) s[b] * s[b] * per);
            for (int i = b * per, e = i + per; i < e; i++) g[i] = k * ((double) next[i] - mean[i]);
        }
        return g;
    }

    /** d / d v from d / d mean: mean depends on v through v·(1 + std_dev_t²·(1 − σ)/(2σ))·dt. */
    public double[] velocityGradient(double[] dMean) {
        int per = dMean.length / samples;
        double[] g = new double[dMean.length];
        for (int b = 0; b < samples; b++) {
            double k = (double) vCoef[b] * dt[b];
            for (int i = b * per, e = i + per; i < e; i++) g[i] = dMean[i] * k;
        }
        return g;
    }
}
