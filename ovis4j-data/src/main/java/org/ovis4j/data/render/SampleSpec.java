package org.ovis4j.data.render;

import java.util.List;

/**
 * Everything needed to draw one sample, decided up front from the sample's random stream.
 *
 * @param width       image width
 * @param height      image height
 * @param lang        language of the text
 * @param layout      which design it is, or null for a scene composed outside the designs (the words
 *                    mode, {@code org.ovis4j.data.words}, which describes its scene itself)
 * @param background  the backdrop
 * @param panels      shapes under the text, drawn in order
 * @param items       the text lines, in reading order
 * @param perspective source-quad corners (x0,y0,...,x3,y3 for TL,TR,BR,BL) that are stretched to the
 *                    image corners, or null for a flat image
 */
public record SampleSpec(int width, int height, Lang lang, LayoutKind layout, Background background, List<Panel> panels,
                         List<TextItem> items, double[] perspective) {

    public SampleSpec withItems(List<TextItem> newItems) {
        return new SampleSpec(width, height, lang, layout, background, panels, newItems, perspective);
    }
}
