package org.ovis4j.data.render;

import java.awt.image.BufferedImage;
import java.util.List;

/** A drawn sample: the spec it came from, the pixels, and where each line landed. */
public record RenderedSample(SampleSpec spec, BufferedImage image, List<RenderedLine> lines) {}
