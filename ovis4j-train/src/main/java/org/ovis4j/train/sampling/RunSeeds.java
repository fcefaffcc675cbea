package org.ovis4j.train.sampling;

import static org.ovis4j.core.random.SplitMix64.GOLDEN;
import static org.ovis4j.core.random.SplitMix64.mix;

/**
 * Stateless randomness for a training run: every draw is a function of (run seed, stream, step, index),
 * so a run resumed at step k draws exactly what the uninterrupted run drew there, with no generator state
 * to checkpoint. A stream is one kind of draw (σ, prompt dropout, noise ε), so adding one kind never
 * shifts another. Values are mixed with core's {@link org.ovis4j.core.random.SplitMix64#mix}, the mixing
 * step of {@link org.ovis4j.core.random.GaussianNoise}; derived seeds feed that generator for normals.
 */
public final class RunSeeds {
    public static final long SIGMA = 1, PROMPT_DROPOUT = 2, NOISE = 3;

    private RunSeeds() {}

    /** The seed of stream {@code stream} at training step {@code step}. */
    public static long derive(long seed, long stream, long step) {
        return mix(mix(seed + GOLDEN * (stream + 1)) + GOLDEN * (step + 1));
    }

    /** A uniform double in [0, 1) for element {@code index} of a step's draw (53 random bits). */
    public static double uniform(long seed, long stream, long step, long index) {
        return (mix(derive(seed, stream, step) + GOLDEN * (index + 1)) >>> 11) * 0x1.0p-53;
    }
}
