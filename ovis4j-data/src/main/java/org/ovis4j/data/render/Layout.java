package org.ovis4j.data.render;

/** A design: places panels and text lines on the canvas through the composer's helpers. */
interface Layout {
    void compose(Composer c);
}
