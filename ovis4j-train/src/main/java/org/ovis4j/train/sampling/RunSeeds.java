package org.ovis4j.train.sampling;

/**
 * Stateless randomness for a training run: every draw is a function of (run seed, stream, step, index),
 * so a run resumed at step k draws exactly what the uninterrupted run drew there, with no generator state
 * to checkpoint. A stream is one kind of draw (σ, prompt dropout, noise ε), so adding one kind never
 * shifts another. Values are mixed with SplitMix64's finaliser (Steele, Lea and Flood 2014), the mixing
 * step of {@link org.ovis4j.core.random.GaussianNoise}; derived seeds feed that generator for normals.
 */
public final class RunSeeds {
    public static final long SIGMA = 1, PROMPT_DROPOUT = 2, NOISE = 3;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private RunSeeds() {}

    /** The seed of stream {@code stream} at training step {@code step}. */
    public static long derive(long seed, long stream, long step) {
        return mix(mix(seed + GOLDEN * (stream + 1)) + GOLDEN * (step + 1));
    }

    /** A uniform double in [0, 1) for element {@code index} of a step's draw (53 random bits). */
    public static double uniform(long seed, long stream, long step, long index) {
        return (mix(derive(seed, stream, step) + GOLDEN * (index + 1)) >>> 11) * 0x1.0p-53;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
