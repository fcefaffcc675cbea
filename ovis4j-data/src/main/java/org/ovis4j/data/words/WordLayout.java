package org.ovis4j.data.words;

import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;
import org.ovis4j.data.render.Background;
import org.ovis4j.data.render.Colors;
import org.ovis4j.data.render.FontCatalog;
import org.ovis4j.data.render.FontFace;
import org.ovis4j.data.render.Lang;
import org.ovis4j.data.render.Panel;
import org.ovis4j.data.render.Rng;
import org.ovis4j.data.render.SampleSpec;
import org.ovis4j.data.render.TextItem;

/**
 * Lays a word scene out for small images (the model trains at 128x128). Everything is sized in
 * fractions of the shorter side, and the text is as large as the object allows: the words are
 * broken into the lines that give the largest font (one line, one word per line, or in between),
 * then the object is fitted around them. The style range is what stays legible at 128 px (measured
 * with the OCR evaluator): bold faces mostly, no perspective, outline, rotation or grain, and a soft
 * shadow only in the mixed style.
 */
final class WordLayout {
    private WordLayout() {}

    /** Baseline-to-baseline distance in font sizes. */
    private static final float LEAD = 1.2f;
    /** Reference size at which text is measured (metrics scale linearly: fractional metrics are on). */
    private static final float REF = 100f;

    /** A text arrangement: the lines and the font size that fills the box. */
    private record Fit(List<String> lines, float size) {}

    static SampleSpec compose(WordScene s, Rng rng, FontCatalog fonts, int w, int h, boolean clean) {
        float side = Math.min(w, h);
        Background bg = background(s.hasBackground() ? s.backColor() : s.objectColor(),
                s.hasBackground() ? s.backRgb() : s.objectRgb(), rng, clean);
        FontFace face = face(fonts, rng, clean);
        List<Panel> panels = new ArrayList<>();
        // The text box (maximum) per object; the object is then fitted around the text actually set.
        float boxW, boxH, padX, padY;
        float objW;
        switch (s.object()) {
            case POSTER -> {
                boolean frame = bg.kind() == Background.Kind.SOLID && rng.chance(0.4);
                float inset = side * (frame ? 0.13f : 0.09f);
                if (frame) {
                    float m = side * 0.05f, t = Math.max(1.5f, side * 0.018f);
                    panels.add(new Panel("frame", m, m, w - 2 * m, h - 2 * m, 0, s.textRgb(), -1));
                    panels.add(new Panel("poster", m + t, m + t, w - 2 * (m + t), h - 2 * (m + t), 0, s.objectRgb(), -1));
                }
                boxW = w - 2 * inset;
                boxH = h - 2 * inset;
                padX = padY = 0;
                objW = w;
            }
            case SIGN -> {
                objW = w * (float) rng.range(0.86, 0.94);
                padX = padY = side * 0.08f;
                boxW = objW - 2 * padX;
                boxH = h * 0.8f - 2 * padY;
            }
            case BANNER -> {
                objW = w;
                padX = side * 0.06f;
                padY = side * 0.08f;
                boxW = w - 2 * padX;
                boxH = h * 0.66f - 2 * padY;
            }
            case LABEL -> {
                objW = w * (float) rng.range(0.9, 0.96);
                padX = side * 0.1f;
                padY = side * 0.09f;
                boxW = objW - 2 * padX;
                boxH = h * 0.78f - 2 * padY;
            }
            case BUTTON -> {
                objW = 0; // from the text
                padX = side * 0.09f;
                padY = side * 0.07f;
                // Room for the rounded ends (radius at most 0.1 of the side).
                boxW = w * 0.94f - 2 * padX - side * 0.06f;
                boxH = h * 0.6f - 2 * padY;
            }
            default -> throw new IllegalStateException();
        }
        Fit fit = fit(face, s.text(), boxW, boxH);
        float size = Math.min(fit.size(), side * 0.36f) * (float) (clean ? rng.range(0.94, 1.0) : rng.range(0.88, 1.0));
        // Ink box of the block with baselines at 0, LEAD*size, ... and lines centred on x = 0.
        double top = Double.MAX_VALUE, bottom = -Double.MAX_VALUE, widest = 0;
        for (int i = 0; i < fit.lines().size(); i++) {
            Rectangle2D ink = face.ink(size, fit.lines().get(i));
            top = Math.min(top, ink.getMinY() + i * LEAD * size);
            bottom = Math.max(bottom, ink.getMaxY() + i * LEAD * size);
            widest = Math.max(widest, ink.getWidth());
        }
        float blockH = (float) (bottom - top);
        float cx = w / 2f, cy;
        if (s.object() == SceneObject.POSTER) {
            cy = h / 2f + (float) rng.range(-0.04, 0.04) * h;
        } else {
            float objH = blockH + 2 * padY;
            if (s.object() == SceneObject.BUTTON) {
                objW = Math.min(w * 0.94f, Math.max(w * 0.5f, (float) widest + 2 * padX + side * 0.06f));
            }
            float room = Math.max(0, (h - objH) / 2 - side * 0.04f);
            cy = h / 2f + (float) rng.range(-1, 1) * Math.min(room, h * 0.08f);
            objectPanels(s, rng, panels, cx - objW / 2, cy - objH / 2, objW, objH, side, fit.lines().size(), clean);
        }
        TextItem.Align align = TextItem.Align.CENTER;
        float x = cx;
        if (s.object() == SceneObject.POSTER && !clean && rng.chance(0.2)) {
            align = TextItem.Align.LEFT;
            x = (w - (float) widest) / 2;
        }
        // No rotation: even 2-4 degrees made Tesseract lose lines it read upright (the held-out
        // renders' failures at 128 px were mostly tilted lines).
        boolean shadow = !clean && rng.chance(0.15);
        float y0 = cy - blockH / 2 - (float) top;
        List<TextItem> items = new ArrayList<>();
        for (int i = 0; i < fit.lines().size(); i++) {
            int shadowRgb = shadow ? Colors.mix(s.objectRgb(), 0x000000, 0.55) : -1;
            float d = shadow ? size * 0.04f : 0;
            items.add(new TextItem("text", fit.lines().get(i), face, size, s.textRgb(), x, y0 + i * LEAD * size, align,
                    0, -1, 0, shadowRgb, d, d, s.objectRgb()));
        }
        return new SampleSpec(w, h, Lang.EN, null, bg, List.copyOf(panels), List.copyOf(items), null);
    }

    private static void objectPanels(WordScene s, Rng rng, List<Panel> panels, float x, float y, float ow, float oh,
                                     float side, int lines, boolean clean) {
        int obj = s.objectRgb();
        switch (s.object()) {
            case SIGN -> {
                // A frame in a darker or lighter shade of the board, like a painted board's edge.
                float t = Math.max(1.5f, side * 0.025f);
                int frame = Colors.mix(obj, Colors.luminance(obj) > 0.3 ? 0x000000 : 0xFFFFFF, 0.4);
                float arc = side * (float) rng.range(0, 0.04);
                panels.add(new Panel("sign frame", x, y, ow, oh, arc, frame, -1));
                panels.add(new Panel("sign", x + t, y + t, ow - 2 * t, oh - 2 * t, Math.max(0, arc - t), obj, -1));
            }
            case BANNER -> {
                panels.add(new Panel("banner", x, y, ow, oh, 0, obj, -1));
                if (rng.chance(0.5)) {
                    float t = Math.max(1.5f, side * 0.02f);
                    int edge = Colors.mix(obj, 0x000000, 0.3);
                    panels.add(new Panel("banner edge", x, y, ow, t, 0, edge, -1));
                    panels.add(new Panel("banner edge", x, y + oh - t, ow, t, 0, edge, -1));
                }
            }
            case LABEL -> {
                // A die-cut sticker: well rounded corners, no frame. (A printed rule inside the edge
                // was read by Tesseract as brackets and bars around the words: 0.906 word accuracy.)
                // Corner radius under the vertical padding: a rounded corner beside a line of text
                // is read as part of it ("(", ">", "4").
                panels.add(new Panel("label", x, y, ow, oh, Math.min(oh * (float) rng.range(0.2, 0.3), side * 0.085f), obj, -1));
            }
            case BUTTON -> {
                float d = side * 0.025f;
                // A pill for one line; for more, corners that stay above the first line and below the
                // last (see the label).
                float arc = lines == 1 ? Math.min(oh / 2, side * 0.1f) : side * 0.06f;
                // The shadow falls straight down: a sliver of it beside the button's side, next to
                // the lines, was read as ">" or "," before them.
                panels.add(new Panel("button shadow", x, y + d, ow, oh, arc,
                        Colors.mix(s.backRgb(), 0x000000, clean ? 0.25 : 0.35), -1));
                panels.add(new Panel("button", x, y, ow, oh, arc, obj, -1));
            }
            default -> throw new IllegalStateException();
        }
    }

    /** A flat or gently graded ground in shades of one named colour. */
    private static Background background(String name, int base, Rng rng, boolean clean) {
        double u = rng.nextDouble();
        Background.Kind kind = clean ? (u < 0.75 ? Background.Kind.SOLID : Background.Kind.LINEAR_GRADIENT)
                : (u < 0.45 ? Background.Kind.SOLID : u < 0.8 ? Background.Kind.LINEAR_GRADIENT : Background.Kind.RADIAL_GRADIENT);
        int b = kind == Background.Kind.SOLID ? base : Palette.shade(name, rng, 24);
        // No grain: at 128 px even sigma 1.5-4 cost 6 points of OCR word accuracy (0.919 against 0.978).
        return new Background(kind, base, b, rng.range(0, 360), 1, 0, rng.nextLong());
    }

    private static FontFace face(FontCatalog fonts, Rng rng, boolean clean) {
        List<FontFace> all = fonts.forLang(Lang.EN);
        // Regular strokes are about 1.3 px at 128 px; bold faces read better (measured 0.97 against 0.95).
        boolean bold = rng.chance(clean ? 0.9 : 0.8);
        List<FontFace> weight = all.stream().filter(f -> f.bold() == bold).toList();
        return rng.pick(weight.isEmpty() ? all : weight);
    }

    /**
     * The line breaking of the words that allows the largest font in the box; among near-equal
     * ones (within 3%) the one with fewer lines, since a phrase reads best on one line.
     */
    static Fit fit(FontFace face, String text, float boxW, float boxH) {
        String[] words = text.split(" ");
        int n = words.length;
        List<Fit> fits = new ArrayList<>();
        // Each mask is a set of breaks between words: bit i set = a new line after word i + 1.
        for (int mask = 0; mask < (1 << (n - 1)); mask++) {
            List<String> lines = new ArrayList<>();
            StringBuilder line = new StringBuilder(words[0]);
            for (int i = 1; i < n; i++) {
                if ((mask & (1 << (i - 1))) != 0) {
                    lines.add(line.toString());
                    line = new StringBuilder(words[i]);
                } else {
                    line.append(' ').append(words[i]);
                }
            }
            lines.add(line.toString());
            double widest = 0, top = Double.MAX_VALUE, bottom = -Double.MAX_VALUE;
            for (int i = 0; i < lines.size(); i++) {
                Rectangle2D ink = face.ink(REF, lines.get(i));
                widest = Math.max(widest, Math.max(ink.getWidth(), face.advance(REF, lines.get(i))));
                top = Math.min(top, ink.getMinY() + i * LEAD * REF);
                bottom = Math.max(bottom, ink.getMaxY() + i * LEAD * REF);
            }
            fits.add(new Fit(List.copyOf(lines), (float) Math.min(REF * boxW / widest, REF * boxH / (bottom - top))));
        }
        float largest = (float) fits.stream().mapToDouble(Fit::size).max().orElseThrow();
        Fit best = null;
        for (Fit f : fits) {
            if (f.size() >= largest / 1.03f && (best == null || f.lines().size() < best.lines().size())) best = f;
        }
        return best;
    }
}
