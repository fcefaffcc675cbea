package org.ovis4j.data.render;

import java.awt.font.FontRenderContext;
import java.util.ArrayList;
import java.util.List;

/**
 * The shared toolkit of the layouts: choosing faces, fitting sizes to widths, wrapping, and picking
 * colours and effects under the contrast and style rules of the run. Layouts decide only where
 * things go; every random choice of look is made here, so the rules live in one place.
 */
final class Composer {
    static final FontRenderContext FRC = FontFace.FRC;

    final int w, h;
    final Lang lang;
    final Rng rng;
    final TextBank bank;
    final boolean clean;
    final Background background;
    final float unit;
    final List<Panel> panels = new ArrayList<>();
    final List<TextItem> items = new ArrayList<>();
    private final List<FontFace> faces;

    Composer(int w, int h, Lang lang, Rng rng, FontCatalog fonts, boolean clean, Background background) {
        this.w = w;
        this.h = h;
        this.lang = lang;
        this.rng = rng;
        this.bank = new TextBank(rng, lang);
        this.clean = clean;
        this.background = background;
        this.unit = Math.min(w, h) / 512f;
        this.faces = fonts.forLang(lang);
    }

    FontFace face(boolean bold) {
        List<FontFace> matching = faces.stream().filter(f -> f.bold() == bold).toList();
        return rng.pick(matching.isEmpty() ? faces : matching);
    }

    FontFace anyFace() {
        return rng.pick(faces);
    }

    static float width(FontFace f, float size, String text) {
        return (float) f.at(size).getStringBounds(text, FRC).getWidth();
    }

    /** The largest size up to {@code size} at which the text fits in maxWidth (never below 40% of it). */
    float fit(FontFace f, String text, float maxWidth, float size) {
        float s = size;
        while (s > size * 0.4f && width(f, s, text) > maxWidth) s *= 0.94f;
        return Math.max(s, minSize());
    }

    /** Below this OCR and people stop reading reliably at 512 px; clean renders keep above it. */
    float minSize() {
        return (clean ? 18 : 12) * unit;
    }

    /** Greedy word wrap (character wrap for Chinese, which has no spaces between words). */
    List<String> wrap(FontFace f, float size, String text, float maxWidth) {
        List<String> lines = new ArrayList<>();
        boolean chars = lang == Lang.ZH;
        String[] tokens = chars ? text.split("") : text.split(" ");
        StringBuilder line = new StringBuilder();
        for (String t : tokens) {
            String candidate = line.isEmpty() ? t : line + (chars ? "" : " ") + t;
            if (!line.isEmpty() && width(f, size, candidate) > maxWidth) {
                lines.add(line.toString());
                line = new StringBuilder(t);
            } else {
                line = new StringBuilder(candidate);
            }
        }
        if (!line.isEmpty()) lines.add(line.toString());
        return lines;
    }

    /** Contrast the text colour must reach over what it sits on. */
    double contrastTarget() {
        // Mixed mode samples a wide range on purpose: real designs include weak contrast, and the
        // quality filter (which measures the pixels) is what guarantees readability downstream.
        return clean ? rng.range(7, 15) : rng.range(2.2, 15);
    }

    Panel panel(String kind, float x, float y, float pw, float ph, float arc, int color, int border) {
        Panel p = new Panel(kind, x, y, pw, ph, arc, color, border);
        panels.add(p);
        return p;
    }

    /** Adds a line with a colour chosen against {@code under} and effects according to role and mode. */
    TextItem text(String role, String text, FontFace f, float size, float x, float baseline, TextItem.Align align, int under) {
        int color = Colors.textColorFor(under, contrastTarget(), rng);
        return text(role, text, f, size, x, baseline, align, under, color);
    }

    TextItem text(String role, String text, FontFace f, float size, float x, float baseline, TextItem.Align align,
                  int under, int color) {
        boolean prominent = role.equals("title") || role.equals("name") || role.equals("headline");
        double rotation = 0;
        int outline = -1, shadow = -1;
        float outlineWidth = 0, sdx = 0, sdy = 0;
        if (!clean) {
            if (rng.chance(prominent ? 0.25 : 0.1)) rotation = rng.range(-1, 1) * (prominent ? 12 : 6);
            if (prominent && rng.chance(0.25)) {
                outline = Colors.contrast(color, 0) > Colors.contrast(color, 0xFFFFFF) ? 0x000000 : 0xFFFFFF;
                outlineWidth = (float) Math.max(1, size * rng.range(0.03, 0.07));
            }
            if (rng.chance(prominent ? 0.25 : 0.1)) {
                shadow = Colors.mix(under, 0x000000, 0.6);
                sdx = (float) (size * rng.range(0.03, 0.08));
                sdy = (float) (size * rng.range(0.03, 0.08));
            }
        }
        TextItem t = new TextItem(role, text, f, size, color, x, baseline, align, rotation, outline, outlineWidth,
                shadow, sdx, sdy, under);
        items.add(t);
        return t;
    }

    /** Alignment drawn at random for designs that allow any. */
    TextItem.Align anyAlign() {
        return rng.pick(TextItem.Align.LEFT, TextItem.Align.CENTER, TextItem.Align.CENTER);
    }

    /** The anchor x for an alignment inside [left, left + width]. */
    static float anchor(TextItem.Align a, float left, float width) {
        return switch (a) {
            case LEFT -> left;
            case CENTER -> left + width / 2;
            case RIGHT -> left + width;
        };
    }

    /** A panel colour that stands apart from the background. */
    int panelColor() {
        int bg = background.meanColor();
        for (int i = 0; i < 8; i++) {
            int c = Colors.randomColor(rng);
            if (Colors.contrast(c, bg) >= 1.6) return c;
        }
        return Colors.luminance(bg) > 0.4 ? 0x202020 : 0xF0F0F0;
    }

    SampleSpec build(LayoutKind kind) {
        double[] quad = null;
        if (!clean && rng.chance(0.25)) {
            // Inset the source corners a little: stretching that quad onto the whole image gives a
            // keystone view with no pixel sampled from outside the picture.
            double m = 0.08;
            quad = new double[8];
            double[][] corners = {{0, 0}, {w, 0}, {w, h}, {0, h}};
            for (int i = 0; i < 4; i++) {
                double ix = corners[i][0] == 0 ? 1 : -1, iy = corners[i][1] == 0 ? 1 : -1;
                quad[2 * i] = corners[i][0] + ix * rng.range(0, m) * w;
                quad[2 * i + 1] = corners[i][1] + iy * rng.range(0, m) * h;
            }
        }
        return new SampleSpec(w, h, lang, kind, background, List.copyOf(panels), List.copyOf(items), quad);
    }
}
