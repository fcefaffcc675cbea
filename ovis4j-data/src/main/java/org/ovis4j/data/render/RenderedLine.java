package org.ovis4j.data.render;

/**
 * A text line as it came out in the pixels.
 *
 * @param item      what was asked for
 * @param bbox      axis-aligned box of the glyphs in image pixels: x, y, width, height (not clipped)
 * @param quad      the line's oriented box corners TL, TR, BR, BL as x0,y0,...,x3,y3 (follows rotation and perspective)
 * @param contrast  WCAG contrast between the text colour and the mean of what lies under the box
 * @param effectiveContrast contrast counting an outline as the text's surround when there is one
 */
public record RenderedLine(TextItem item, double[] bbox, double[] quad, double contrast, double effectiveContrast) {}
