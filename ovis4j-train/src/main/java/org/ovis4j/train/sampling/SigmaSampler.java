package org.ovis4j.train.sampling;

import org.ovis4j.core.OvisException;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.schedule.FlowMatchEulerScheduler;

/**
 * Draws the flow-matching noise level σ ∈ (0, 1) of each training sample (spec 9.1, goldens README
 * 9.2) from a standard normal u:
 * <ul>
 *   <li>{@link Density#LOGIT_NORMAL}: σ = sigmoid(m + s·u), SD3/FLUX's "logit_normal" (m = 0, s = 1 by default);</li>
 *   <li>{@link Density#OVIS}: σ = sigmoid(μ(N) + u), the official Ovis-Image {@code sample_timesteps(image_seq_len = N)},
 *       μ(N) = 0.5 + 0.65·(N − 256)/3840 (the inference shift's μ, {@link FlowMatchEulerScheduler#mu});</li>
 *   <li>{@link Density#LOGIT_NORMAL_DISCRETE}: diffusers' SD3/FLUX training scripts, which index the
 *       1000-entry training schedule: index = floor(1000·sigmoid(m + s·u)), σ = (1000 − index)/1000 — mirrored,
 *       σ ≈ 1 − sigmoid(m + s·u), which matters only when m ≠ 0.</li>
 * </ul>
 * Arithmetic is torch's float32: x = (float) s·u + (float) m, sigmoid(x) = 1/(1 + exp(−x)) with a
 * correctly rounded float32 exp (torch's scalar path through glibc's expf), the index from the float32
 * product 1000·sigmoid, the table entry float32(1000 − index)/1000. u comes from the project's generator
 * ({@link GaussianNoise}) seeded per step ({@link RunSeeds}), so a seed gives the same σ everywhere and a
 * resumed run the same σ as an uninterrupted one; they are not the σ torch's generator would give.
 */
public final class SigmaSampler {
    public enum Density { LOGIT_NORMAL, OVIS, LOGIT_NORMAL_DISCRETE }

    /** diffusers' num_train_timesteps of the training schedule. */
    public static final int TRAIN_TIMESTEPS = 1000;

    private final Density density;
    private final double mean, std;
    private final FlowMatchEulerScheduler scheduler;
    private final long seed;

    /**
     * A sampler; {@code mean} and {@code std} are the logit-normal m and s (unused by {@link Density#OVIS},
     * whose mean is μ(N) from {@code scheduler}'s shift parameters and whose s is 1).
     */
    public SigmaSampler(Density density, double mean, double std, FlowMatchEulerScheduler scheduler, long seed) {
        if (!(std > 0) || !Double.isFinite(mean)) throw new OvisException("sigma sampling: invalid logit-normal mean " + mean + " / std " + std);
        this.density = density;
        this.mean = mean;
        this.std = std;
        this.scheduler = scheduler;
        this.seed = seed;
    }

    /** The official Ovis-Image sampler with the model's default shift parameters. */
    public static SigmaSampler ovis(long seed) {
        return new SigmaSampler(Density.OVIS, 0, 1, FlowMatchEulerScheduler.defaults(), seed);
    }

    /** σ for the {@code batch} samples of training step {@code step}, images of {@code imageSeqLen} packed tokens. */
    public float[] sample(long step, int batch, int imageSeqLen) {
        float[] u = GaussianNoise.sample(RunSeeds.derive(seed, RunSeeds.SIGMA, step), batch);
        float[] sigma = new float[batch];
        for (int b = 0; b < batch; b++) sigma[b] = sigma(u[b], imageSeqLen);
        return sigma;
    }

    /** σ for one standard-normal draw u. */
    public float sigma(float u, int imageSeqLen) {
        return switch (density) {
            case LOGIT_NORMAL -> logitNormal(u, mean, std);
            case OVIS -> logitNormal(u, scheduler.mu(imageSeqLen), 1);
            case LOGIT_NORMAL_DISCRETE -> discreteSigma(discreteIndex(logitNormal(u, mean, std)));
        };
    }

    /** sigmoid((float) std·u + (float) mean) in float32. */
    public static float logitNormal(float u, double mean, double std) {
        return sigmoid((float) std * u + (float) mean);
    }

    /** torch's float32 sigmoid on its scalar path: 1 / (1 + exp(−x)). */
    static float sigmoid(float x) {
        return 1f / (1f + (float) Math.exp(-x));
    }

    /**
     * diffusers' {@code (u * num_train_timesteps).long()} for a sample u = sigmoid(·) ∈ [0, 1]. A float32
     * sigmoid can round to exactly 1 (x above 17), which would index past the table: that case takes the
     * last entry.
     */
    public static int discreteIndex(float sigmoid) {
        return Math.min((int) (sigmoid * TRAIN_TIMESTEPS), TRAIN_TIMESTEPS - 1);
    }

    /** The training schedule's {@code sigmas[index]}: timesteps 1000 … 1 divided by 1000 in float32. */
    public static float discreteSigma(int index) {
        if (index < 0 || index >= TRAIN_TIMESTEPS) throw new OvisException("sigma index " + index + " outside [0, " + TRAIN_TIMESTEPS + ")");
        return (float) (TRAIN_TIMESTEPS - index) / TRAIN_TIMESTEPS;
    }
}
