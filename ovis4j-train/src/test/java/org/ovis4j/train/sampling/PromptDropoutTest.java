package org.ovis4j.train.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;

class PromptDropoutTest {
    /** The dropped fraction of 100,000 decisions is p within 5 binomial standard errors. */
    @Test
    void dropsWithTheGivenProbability() {
        for (double p : new double[] {0.1, 0.5}) {
            PromptDropout d = new PromptDropout(p, 17);
            int dropped = 0, n = 0;
            for (long step = 0; step < 12_500; step++)
                for (boolean x : d.drops(step, 8)) {
                    if (x) dropped++;
                    n++;
                }
            assertEquals(p, (double) dropped / n, 5 * Math.sqrt(p * (1 - p) / n));
        }
    }

    @Test
    void extremesAndReproducibility() {
        boolean[] none = new boolean[64], all = new boolean[64];
        Arrays.fill(all, true);
        assertArrayEquals(none, new PromptDropout(0, 1).drops(3, 64));
        assertArrayEquals(all, new PromptDropout(1, 1).drops(3, 64));
        PromptDropout a = new PromptDropout(0.5, 7);
        assertArrayEquals(a.drops(11, 64), new PromptDropout(0.5, 7).drops(11, 64));
        assertFalse(Arrays.equals(a.drops(11, 64), a.drops(12, 64)));
        assertFalse(Arrays.equals(a.drops(11, 64), new PromptDropout(0.5, 8).drops(11, 64)));
        assertThrows(OvisException.class, () -> new PromptDropout(1.5, 0));
    }

    /** Streams are independent: the dropout stream and the σ stream of one seed are not the same numbers. */
    @Test
    void streamsDiffer() {
        assertFalse(RunSeeds.derive(1, RunSeeds.SIGMA, 0) == RunSeeds.derive(1, RunSeeds.PROMPT_DROPOUT, 0));
        assertFalse(RunSeeds.uniform(1, RunSeeds.PROMPT_DROPOUT, 0, 0) == RunSeeds.uniform(1, RunSeeds.NOISE, 0, 0));
    }
}
