package org.ovis4j.core.random;

/**
 * SplitMix64 (Steele, Lea and Flood 2014), the project's one source of pseudo-random bits: a 64-bit
 * state advanced by a fixed odd constant and passed through a mixing finaliser. Written out rather than
 * taken from java.util so that what a seed produces can never change with the JDK, and kept in one
 * visible {@code long} so that a generator's position can be saved and continued exactly. Noise, data
 * rendering, shuffles, training draws and random checkpoints all build on it.
 */
public final class SplitMix64 {
    /** The increment (2⁶⁴ / φ, odd); also used to spread small integers before mixing. */
    public static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private long state;

    public SplitMix64(long state) {
        this.state = state;
    }

    /** The state to save; {@code new SplitMix64(state())} continues the same sequence. */
    public long state() {
        return state;
    }

    public long nextLong() {
        return mix(state += GOLDEN);
    }

    /** Uniform in [0, 1) from the top 53 bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** The finaliser: a bijection of 64-bit words in which every input bit affects every output bit. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
