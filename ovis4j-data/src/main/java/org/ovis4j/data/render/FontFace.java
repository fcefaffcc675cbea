package org.ovis4j.data.render;

import java.awt.Font;
import java.awt.font.FontRenderContext;
import java.awt.geom.Rectangle2D;

/**
 * One typeface loaded from a known file. The file, not a family name, is the identity: asking the
 * platform for "Serif" would give different glyphs on different machines and break determinism.
 *
 * @param name   the face's full name as the font file states it (e.g. "DejaVu Sans Bold")
 * @param file   the file's name, recorded in the metadata so a sample can be re-rendered
 * @param bold   whether the face is a bold weight
 * @param serif  whether the face has serifs (captions mention it)
 * @param cjk    whether the face covers simplified Chinese
 * @param font   the loaded font at size 1; derive sizes from it
 */
public record FontFace(String name, String file, boolean bold, boolean serif, boolean cjk, Font font) {
    /** Antialiased, fractional metrics: the context text is measured and drawn with. */
    public static final FontRenderContext FRC = new FontRenderContext(null, true, true);

    public Font at(float size) {
        return font.deriveFont(size);
    }

    /** The advance width of the text at this size (what alignment uses). */
    public float advance(float size, String text) {
        return (float) at(size).getStringBounds(text, FRC).getWidth();
    }

    /** The ink box of the text at this size, relative to the start of its baseline. */
    public Rectangle2D ink(float size, String text) {
        return at(size).createGlyphVector(FRC, text).getVisualBounds();
    }

    public String weight() {
        return bold ? "bold" : "regular";
    }
}
