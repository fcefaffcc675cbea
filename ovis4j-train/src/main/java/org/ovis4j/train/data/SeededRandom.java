package org.ovis4j.train.data;

/**
 * SplitMix64 (Steele, Lea and Flood 2014) with its whole state in one visible {@code long}, so that a
 * data reader's shuffle can be saved with a checkpoint and continued exactly. Written out rather than
 * taken from java.util so that a seed's order cannot change with the JDK.
 */
public final class SeededRandom {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private long state;

    public SeededRandom(long state) {
        this.state = state;
    }

    /** The state to save; {@code new SeededRandom(state())} continues the same sequence. */
    public long state() {
        return state;
    }

    public long nextLong() {
        return mix(state += GOLDEN);
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

    /** Uniform in [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** FNV-1a over the UTF-8 bytes of {@code name}: a stable 64-bit word naming a record, a tensor or a module. */
    public static long hash(String name) {
        long h = 0xCBF29CE484222325L;
        for (byte b : name.getBytes(java.nio.charset.StandardCharsets.UTF_8)) h = (h ^ (b & 0xFF)) * 0x100000001B3L;
        return h;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
