package org.ovis4j.train.data;

import static org.ovis4j.core.random.SplitMix64.GOLDEN;
import static org.ovis4j.core.random.SplitMix64.mix;

import org.ovis4j.core.random.SplitMix64;

/**
 * Shuffling draws over core's {@link SplitMix64}, whose whole state is one visible {@code long}, so that a
 * data reader's shuffle can be saved with a checkpoint and continued exactly.
 */
public final class SeededRandom {
    private final SplitMix64 words;

    public SeededRandom(long state) {
        this.words = new SplitMix64(state);
    }

    /** The state to save; {@code new SeededRandom(state())} continues the same sequence. */
    public long state() {
        return words.state();
    }

    public long nextLong() {
        return words.nextLong();
    }

    /** Uniform in [0, bound), unbiased (values of the top partial range are drawn again). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive, got " + bound);
        // u − r + (bound − 1) overflows exactly when u lies in the last, incomplete run of bound values
        long u = nextLong() >>> 1, r;
        while (u - (r = u % bound) + (bound - 1) < 0) u = nextLong() >>> 1;
        return (int) r;
    }

    /** A Fisher–Yates permutation of 0 … n−1. */
    public int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * A seed for one purpose derived from several numbers (a run's seed, an epoch, a sample index, a
     * constant naming the purpose): each word is folded in through the SplitMix64 finaliser, so nearby
     * inputs give unrelated streams and no purpose's stream depends on how much another one drew.
     */
    public static long derive(long... words) {
        long h = 0x6A09E667F3BCC909L;
        for (long w : words) h = mix(h + GOLDEN + mix(w + GOLDEN));
        return h;
    }
}
