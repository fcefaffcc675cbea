package org.ovis4j.data.render;

/**
 * One line of text to draw, fully decided: rendering it needs no randomness, so a planted error can
 * be made by changing only {@code text} and drawing again.
 *
 * @param role      what the line is in the design (title, subtitle, button, ...), used in captions
 * @param text      the characters
 * @param face      the typeface
 * @param size      font size in pixels
 * @param color     fill colour, 0xRRGGBB
 * @param x         anchor x: left edge, centre or right edge depending on {@code align}
 * @param baseline  baseline y
 * @param align     horizontal alignment relative to x
 * @param rotation  degrees, clockwise, about the line's centre
 * @param outline   outline colour or -1 for none
 * @param outlineWidth outline width in pixels
 * @param shadow    shadow colour or -1 for none
 * @param shadowDx  shadow offset x
 * @param shadowDy  shadow offset y
 * @param under     the colour the layout put this line on (panel or background mean), for captions
 */
public record TextItem(String role, String text, FontFace face, float size, int color, float x, float baseline,
                       Align align, double rotation, int outline, float outlineWidth, int shadow, float shadowDx,
                       float shadowDy, int under) {

    public enum Align { LEFT, CENTER, RIGHT }

    public TextItem withText(String t) {
        return new TextItem(role, t, face, size, color, x, baseline, align, rotation, outline, outlineWidth, shadow,
                shadowDx, shadowDy, under);
    }
}
