package org.ovis4j.data.render;

import java.util.List;

/**
 * A procedural background, described by a few numbers so the metadata can say what it was. Pixels
 * are computed in plain loops over an int array (not Java2D paints) so the result is exactly
 * reproducible and cheap.
 *
 * @param kind   what it is
 * @param a      the first (dominant) colour
 * @param b      the second colour (gradient end, texture or stripe colour); equals a for solid
 * @param angle  gradient or stripe direction in degrees
 * @param scale  texture feature size or stripe period in pixels
 * @param grain  standard deviation of added per-pixel noise, 0 for none
 * @param seed   seed of the texture lattice
 */
public record Background(Kind kind, int a, int b, double angle, double scale, double grain, long seed) {

    public enum Kind {
        SOLID("solid", "纯色"),
        LINEAR_GRADIENT("linear gradient", "线性渐变"),
        RADIAL_GRADIENT("radial gradient", "径向渐变"),
        TEXTURE("textured", "纹理"),
        STRIPES("striped", "条纹"),
        PAPER("paper-like", "纸张质感");

        public final String en, zh;

        Kind(String en, String zh) {
            this.en = en;
            this.zh = zh;
        }

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * A random background. Clean mode keeps to flat colours and gentle gradients so that OCR
     * ground truth is not clouded by the background; mixed mode uses everything.
     */
    public static Background random(Rng rng, boolean clean) {
        List<Kind> kinds = clean ? List.of(Kind.SOLID, Kind.LINEAR_GRADIENT, Kind.RADIAL_GRADIENT)
                : List.of(Kind.values());
        Kind k = rng.pick(kinds);
        int a = Colors.randomColor(rng);
        int b = switch (k) {
            case SOLID -> a;
            // Clean gradients stay within a narrow brightness band so one text colour reads everywhere.
            case LINEAR_GRADIENT, RADIAL_GRADIENT -> clean ? Colors.mix(a, Colors.randomColor(rng), 0.35) : Colors.randomColor(rng);
            case TEXTURE, PAPER -> Colors.mix(a, rng.chance(0.5) ? 0x000000 : 0xFFFFFF, rng.range(0.1, 0.3));
            case STRIPES -> Colors.mix(a, Colors.randomColor(rng), rng.range(0.15, 0.35));
        };
        double grain = clean ? 0 : (k == Kind.PAPER ? rng.range(4, 10) : (rng.chance(0.3) ? rng.range(2, 8) : 0));
        return new Background(k, a, b, rng.range(0, 360), rng.range(12, 80), grain, rng.nextLong());
    }

    /** Average colour, used to pick text colours before the pixels exist. */
    public int meanColor() {
        return switch (kind) {
            case SOLID -> a;
            case TEXTURE, PAPER, STRIPES -> Colors.mix(a, b, 0.5 * (kind == Kind.STRIPES ? 1 : 0.5));
            default -> Colors.mix(a, b, 0.5);
        };
    }

    public void paint(int[] px, int w, int h) {
        double rad = Math.toRadians(angle);
        double cx = Math.cos(rad), sy = Math.sin(rad);
        double half = 0.5 * (Math.abs(cx) * w + Math.abs(sy) * h);
        Rng noise = new Rng(seed ^ 0x5DEECE66DL);
        ValueNoise tex = kind == Kind.TEXTURE ? new ValueNoise(seed) : null;
        double maxR = Math.hypot(w / 2.0, h / 2.0);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int c;
                switch (kind) {
                    case SOLID, PAPER -> c = a;
                    case LINEAR_GRADIENT -> {
                        double t = ((x - w / 2.0) * cx + (y - h / 2.0) * sy) / (2 * half) + 0.5;
                        c = Colors.mix(a, b, Math.max(0, Math.min(1, t)));
                    }
                    case RADIAL_GRADIENT -> c = Colors.mix(a, b, Math.hypot(x - w / 2.0, y - h / 2.0) / maxR);
                    case TEXTURE -> c = Colors.mix(a, b, tex.fractal(x / scale, y / scale));
                    case STRIPES -> {
                        double u = (x * cx + y * sy) / scale;
                        c = (u - Math.floor(u)) < 0.5 ? a : b;
                    }
                    default -> throw new IllegalStateException();
                }
                px[y * w + x] = c;
            }
        }
        if (kind == Kind.PAPER) {
            // Low-frequency blotches on top of the grain: paper is uneven, not just noisy.
            ValueNoise blotch = new ValueNoise(seed + 1);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    px[y * w + x] = Colors.mix(px[y * w + x], b, 0.6 * blotch.fractal(x / (scale * 3), y / (scale * 3)));
                }
            }
        }
        if (grain > 0) Effects.addGrain(px, noise, grain);
    }

    /** Smooth lattice noise in [0, 1]: a hash of integer corners, bilinearly blended with a smoothstep. */
    static final class ValueNoise {
        private final long seed;

        ValueNoise(long seed) {
            this.seed = seed;
        }

        private double lattice(int x, int y) {
            long h = Rng.mix(seed ^ (x * 0x9E3779B97F4A7C15L) ^ (y * 0xC2B2AE3D27D4EB4FL));
            return (h >>> 11) * 0x1.0p-53;
        }

        double at(double x, double y) {
            int x0 = (int) Math.floor(x), y0 = (int) Math.floor(y);
            double fx = x - x0, fy = y - y0;
            fx = fx * fx * (3 - 2 * fx);
            fy = fy * fy * (3 - 2 * fy);
            double top = lattice(x0, y0) * (1 - fx) + lattice(x0 + 1, y0) * fx;
            double bot = lattice(x0, y0 + 1) * (1 - fx) + lattice(x0 + 1, y0 + 1) * fx;
            return top * (1 - fy) + bot * fy;
        }

        /** Three octaves: coarse shapes with some finer detail. */
        double fractal(double x, double y) {
            return (at(x, y) * 4 + at(x * 2.03, y * 2.03) * 2 + at(x * 4.07, y * 4.07)) / 7.0;
        }
    }
}
