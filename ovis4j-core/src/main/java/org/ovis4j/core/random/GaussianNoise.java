package org.ovis4j.core.random;

/**
 * The project's documented noise generator, stable across JVMs and releases: {@link SplitMix64}
 * produces 64-bit words; each pair of words gives two standard normals by the
 * Box–Muller transform, u1 = (w1 >>> 11 + 1)·2⁻⁵³ (never 0), u2 = (w2 >>> 11)·2⁻⁵³,
 * z0 = sqrt(−2 ln u1)·cos(2πu2), z1 = sqrt(−2 ln u1)·sin(2πu2), computed in double and rounded to float.
 * Values are produced in the order of the tensor's flat (row-major) index. It is not PyTorch's
 * generator: a seed gives the same image in ovis4j everywhere, not the image torch would give.
 */
public final class GaussianNoise {
    private final SplitMix64 words;

    public GaussianNoise(long seed) {
        this.words = new SplitMix64(seed);
    }

    private long next() {
        return words.nextLong();
    }

    /** Fills {@code out} with standard normal samples. */
    public void fill(float[] out) {
        for (int i = 0; i < out.length; i += 2) {
            double u1 = ((next() >>> 11) + 1) * 0x1.0p-53;
            double u2 = (next() >>> 11) * 0x1.0p-53;
            double r = Math.sqrt(-2 * Math.log(u1)), a = 2 * Math.PI * u2;
            out[i] = (float) (r * Math.cos(a));
            if (i + 1 < out.length) out[i + 1] = (float) (r * Math.sin(a));
        }
    }

    /** {@code n} standard normal samples from {@code seed}. */
    public static float[] sample(long seed, int n) {
        float[] out = new float[n];
        new GaussianNoise(seed).fill(out);
        return out;
    }
}
