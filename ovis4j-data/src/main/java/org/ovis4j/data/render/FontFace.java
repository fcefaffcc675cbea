package org.ovis4j.data.render;

import java.awt.Font;

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
    public Font at(float size) {
        return font.deriveFont(size);
    }

    public String weight() {
        return bold ? "bold" : "regular";
    }
}
