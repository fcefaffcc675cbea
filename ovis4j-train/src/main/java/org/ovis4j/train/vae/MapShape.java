package org.ovis4j.train.vae;

/** The shape of a batch of channels-last feature maps [batch, h, w, c] (channel fastest). */
record MapShape(int batch, int h, int w, int c) {
    MapShape {
        if (batch <= 0 || h <= 0 || w <= 0 || c <= 0) throw new IllegalArgumentException("map " + batch + "x" + h + "x" + w + "x" + c);
    }

    int pixels() { return h * w; }

    /** Values held: batch·h·w·c. */
    int size() { return Math.multiplyExact(Math.multiplyExact(batch, h * w), c); }

    MapShape withChannels(int channels) { return new MapShape(batch, h, w, channels); }

    MapShape scaled(int hNew, int wNew) { return new MapShape(batch, hNew, wNew, c); }
}
