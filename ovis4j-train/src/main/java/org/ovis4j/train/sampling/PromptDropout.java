package org.ovis4j.train.sampling;

import org.ovis4j.core.OvisException;

/**
 * Prompt dropout for classifier-free guidance: each training sample's caption is replaced by the empty
 * prompt with probability p (diffusers' {@code --proportion_empty_prompts}; the caller substitutes the
 * cached text-encoder states of ""), so the model also learns the unconditional prediction that guidance
 * extrapolates from. The decision for (step, sample) is a fixed function of the seed ({@link RunSeeds}).
 */
public record PromptDropout(double probability, long seed) {
    public PromptDropout {
        if (!(probability >= 0 && probability <= 1))
            throw new OvisException("prompt dropout probability must be in [0, 1], got " + probability);
    }

    /** True when sample {@code sample} of training step {@code step} trains on the empty prompt. */
    public boolean drop(long step, int sample) {
        return RunSeeds.uniform(seed, RunSeeds.PROMPT_DROPOUT, step, sample) < probability;
    }

    /** {@link #drop} for samples 0 … batch − 1. */
    public boolean[] drops(long step, int batch) {
        boolean[] d = new boolean[batch];
        for (int b = 0; b < batch; b++) d[b] = drop(step, b);
        return d;
    }
}
