package org.ovis4j.data.render;

/**
 * A filled shape drawn under text: a sign board, a button, a label sticker, a book's band.
 *
 * @param kind    what it stands for in captions ("sign board", "button", ...)
 * @param x       left
 * @param y       top
 * @param w       width
 * @param h       height
 * @param arc     corner radius, 0 for square corners; {@code -1} draws an ellipse
 * @param color   fill colour
 * @param border  border colour or -1
 */
public record Panel(String kind, float x, float y, float w, float h, float arc, int color, int border) {}
