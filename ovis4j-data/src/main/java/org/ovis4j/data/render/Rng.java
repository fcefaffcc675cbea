package org.ovis4j.data.render;

import java.util.List;
import org.ovis4j.core.random.SplitMix64;

/**
 * Rendering draws over core's {@link SplitMix64}. Not java.util randoms so that the byte-exact output
 * promised for a seed cannot change with a JDK's implementation, and so that each sample gets an
 * independent stream from (seed, index) alone: shards come out the same whatever the thread count.
 */
public final class Rng {
    private final SplitMix64 words;

    public Rng(long seed) {
        this.words = new SplitMix64(seed);
    }

    /** The stream for one sample: depends only on the run's seed and the sample's index. */
    public static Rng forSample(long seed, long index) {
        return new Rng(mix(seed * 0x9E3779B97F4A7C15L + mix(index + 0x632BE59BD9B4E019L)));
    }

    static long mix(long z) {
        return SplitMix64.mix(z);
    }

    public long nextLong() {
        return words.nextLong();
    }

    /** Uniform in [0, 1). */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    public double range(double lo, double hi) {
        return lo + (hi - lo) * nextDouble();
    }

    /** Uniform in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) throw new IllegalArgumentException("bound must be positive");
        return (int) ((nextLong() >>> 33) % bound);
    }

    /** Uniform in [lo, hi] inclusive. */
    public int between(int lo, int hi) {
        return lo + nextInt(hi - lo + 1);
    }

    public boolean chance(double p) {
        return nextDouble() < p;
    }

    public double gaussian() {
        // Box-Muller; the 1 - u keeps log away from zero.
        double u = 1.0 - nextDouble();
        double v = nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * v);
    }

    public <T> T pick(List<T> items) {
        return items.get(nextInt(items.size()));
    }

    @SafeVarargs
    public final <T> T pick(T... items) {
        return items[nextInt(items.length)];
    }
}
