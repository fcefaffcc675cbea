package org.ovis4j.data.render;

import java.util.List;

/**
 * Colour arithmetic for contrast control and for naming colours in captions. Contrast is the WCAG
 * ratio (L1 + 0.05) / (L2 + 0.05) over relative luminance: it is what "readable" is usually defined
 * by, so a threshold of 4.5 means the same thing here as in accessibility guidelines.
 */
public final class Colors {
    private Colors() {}

    public static int rgb(int r, int g, int b) {
        return (clamp(r) << 16) | (clamp(g) << 8) | clamp(b);
    }

    static int clamp(int v) {
        return v < 0 ? 0 : Math.min(255, v);
    }

    public static String hex(int rgb) {
        return String.format("#%06x", rgb & 0xFFFFFF);
    }

    private static double channel(int c) {
        double s = c / 255.0;
        return s <= 0.04045 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    }

    public static double luminance(int rgb) {
        return 0.2126 * channel((rgb >> 16) & 255) + 0.7152 * channel((rgb >> 8) & 255) + 0.0722 * channel(rgb & 255);
    }

    public static double contrast(double lumA, double lumB) {
        double hi = Math.max(lumA, lumB), lo = Math.min(lumA, lumB);
        return (hi + 0.05) / (lo + 0.05);
    }

    public static double contrast(int a, int b) {
        return contrast(luminance(a), luminance(b));
    }

    public static int mix(int a, int b, double t) {
        int r = (int) Math.round(((a >> 16) & 255) * (1 - t) + ((b >> 16) & 255) * t);
        int g = (int) Math.round(((a >> 8) & 255) * (1 - t) + ((b >> 8) & 255) * t);
        int bl = (int) Math.round((a & 255) * (1 - t) + (b & 255) * t);
        return rgb(r, g, bl);
    }

    public static int hsv(double h, double s, double v) {
        double c = v * s, x = c * (1 - Math.abs((h / 60.0) % 2 - 1)), m = v - c;
        double r, g, b;
        if (h < 60) { r = c; g = x; b = 0; }
        else if (h < 120) { r = x; g = c; b = 0; }
        else if (h < 180) { r = 0; g = c; b = x; }
        else if (h < 240) { r = 0; g = x; b = c; }
        else if (h < 300) { r = x; g = 0; b = c; }
        else { r = c; g = 0; b = x; }
        return rgb((int) Math.round((r + m) * 255), (int) Math.round((g + m) * 255), (int) Math.round((b + m) * 255));
    }

    public static int randomColor(Rng rng) {
        return hsv(rng.range(0, 360), rng.range(0.1, 0.9), rng.range(0.15, 1.0));
    }

    /**
     * A colour for text over a background of the given colour with at least the target contrast:
     * start from a random hue and walk its brightness toward black or white (whichever side has room)
     * until the ratio is reached. Keeping the hue makes the palette varied instead of black/white only.
     */
    public static int textColorFor(int background, double targetContrast, Rng rng) {
        double lb = luminance(background);
        boolean darker = contrast(lb, 0) >= contrast(lb, 1) ? true : false;
        // Prefer the side that can reach the target; when both can, choose at random.
        boolean canDark = contrast(lb, 0) >= targetContrast, canLight = contrast(lb, 1) >= targetContrast;
        if (canDark && canLight) darker = rng.chance(0.5);
        else if (canLight) darker = false;
        else if (canDark) darker = true;
        int base = hsv(rng.range(0, 360), rng.range(0.2, 1.0), rng.range(0.2, 1.0));
        int end = darker ? 0x000000 : 0xFFFFFF;
        for (int step = 0; step <= 40; step++) {
            int c = mix(base, end, step / 40.0);
            if (contrast(c, background) >= targetContrast) return c;
        }
        return end;
    }

    private record Named(int rgb, String en, String zh) {}

    private static final List<Named> NAMES = List.of(
            new Named(0x000000, "black", "黑色"), new Named(0xFFFFFF, "white", "白色"),
            new Named(0x808080, "grey", "灰色"), new Named(0xC0C0C0, "light grey", "浅灰色"),
            new Named(0x404040, "dark grey", "深灰色"), new Named(0xD32F2F, "red", "红色"),
            new Named(0x8B0000, "dark red", "深红色"), new Named(0xFF8C00, "orange", "橙色"),
            new Named(0xFFD700, "yellow", "黄色"), new Named(0xF5DEB3, "cream", "米色"),
            new Named(0x228B22, "green", "绿色"), new Named(0x006400, "dark green", "深绿色"),
            new Named(0x90EE90, "light green", "浅绿色"), new Named(0x008080, "teal", "青色"),
            new Named(0x1E90FF, "blue", "蓝色"), new Named(0x000080, "navy", "藏青色"),
            new Named(0x87CEEB, "light blue", "浅蓝色"), new Named(0x800080, "purple", "紫色"),
            new Named(0xEE82EE, "violet", "紫罗兰色"), new Named(0xFF69B4, "pink", "粉色"),
            new Named(0x8B4513, "brown", "棕色"), new Named(0xD2B48C, "tan", "棕褐色"),
            new Named(0xDAA520, "gold", "金色"));

    private static Named nearest(int rgb) {
        Named best = null;
        double bestD = Double.MAX_VALUE;
        int r = (rgb >> 16) & 255, g = (rgb >> 8) & 255, b = rgb & 255;
        for (Named n : NAMES) {
            int nr = (n.rgb >> 16) & 255, ng = (n.rgb >> 8) & 255, nb = n.rgb & 255;
            // "Redmean" weighting: a cheap perceptual distance that names colours better than plain RGB.
            double rm = (r + nr) / 2.0;
            double d = (2 + rm / 256) * (r - nr) * (r - nr) + 4 * (g - ng) * (g - ng) + (2 + (255 - rm) / 256) * (b - nb) * (b - nb);
            if (d < bestD) { bestD = d; best = n; }
        }
        return best;
    }

    /** The reference colour of an English colour name (the one {@link #nameEn} names after). */
    public static int named(String en) {
        for (Named n : NAMES) if (n.en.equals(en)) return n.rgb;
        throw new IllegalArgumentException("no colour named " + en);
    }

    public static String nameEn(int rgb) {
        return nearest(rgb).en;
    }

    public static String nameZh(int rgb) {
        return nearest(rgb).zh;
    }
}
