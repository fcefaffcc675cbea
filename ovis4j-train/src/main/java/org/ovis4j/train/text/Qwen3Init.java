package org.ovis4j.train.text;

import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.train.data.SeededRandom;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

/**
 * Initial values of a Qwen3 trained from scratch, as transformers' {@code Qwen3PreTrainedModel._init_weights}
 * sets them: every linear weight and the embedding N(0, initializer_range²) (0.02 in Qwen3's configs), every
 * RMSNorm weight 1. The draws of a tensor depend only on the seed and its name.
 */
public final class Qwen3Init {
    private static final long INIT = 12;

    private Qwen3Init() {}

    public static void apply(Parameters params, double std, long seed) {
        for (Parameter p : params) {
            float[] v = p.value();
            if (p.shape().length == 1) {
                java.util.Arrays.fill(v, 1f);
                continue;
            }
            float[] z = GaussianNoise.sample(SeededRandom.derive(seed, INIT, SeededRandom.hash(p.name())), v.length);
            for (int i = 0; i < v.length; i++) v[i] = (float) (std * z[i]);
        }
    }
}
