package org.ovis4j.data.render;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.font.GlyphVector;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.awt.geom.RoundRectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.ArrayList;
import java.util.List;

/**
 * Draws a spec. Text is drawn as filled glyph outlines rather than with drawString: the same shape
 * then serves for the fill, the outline stroke, the shadow and the bounding box, so the metadata
 * describes exactly the ink that was laid down.
 */
public final class Renderer {
    private Renderer() {}

    private static final double[] LINEAR = new double[256];

    static {
        for (int i = 0; i < 256; i++) LINEAR[i] = Colors.luminance(i << 16) / 0.2126;
    }

    public static RenderedSample render(SampleSpec spec) {
        int w = spec.width(), h = spec.height();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
        spec.background().paint(px, w, h);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
        float unit = Math.min(w, h) / 512f;
        for (Panel p : spec.panels()) {
            Shape s = p.arc() < 0 ? new Ellipse2D.Float(p.x(), p.y(), p.w(), p.h())
                    : new RoundRectangle2D.Float(p.x(), p.y(), p.w(), p.h(), 2 * p.arc(), 2 * p.arc());
            g.setColor(new Color(p.color()));
            g.fill(s);
            if (p.border() >= 0) {
                g.setStroke(new BasicStroke(Math.max(1, 2 * unit)));
                g.setColor(new Color(p.border()));
                g.draw(s);
            }
        }
        int[] under = px.clone();
        List<double[]> quads = new ArrayList<>();
        List<Shape> shapes = new ArrayList<>();
        for (TextItem t : spec.items()) {
            GlyphVector gv = t.face().at(t.size()).createGlyphVector(Composer.FRC, t.text());
            double advance = gv.getLogicalBounds().getWidth();
            double x0 = switch (t.align()) {
                case LEFT -> t.x();
                case CENTER -> t.x() - advance / 2;
                case RIGHT -> t.x() - advance;
            };
            Shape flat = gv.getOutline((float) x0, t.baseline());
            Rectangle2D vb = flat.getBounds2D();
            AffineTransform at = AffineTransform.getRotateInstance(Math.toRadians(t.rotation()), vb.getCenterX(), vb.getCenterY());
            Shape shape = at.createTransformedShape(flat);
            if (t.shadow() >= 0) {
                g.setColor(new Color(t.shadow()));
                g.fill(AffineTransform.getTranslateInstance(t.shadowDx(), t.shadowDy()).createTransformedShape(shape));
            }
            if (t.outline() >= 0) {
                g.setColor(new Color(t.outline()));
                g.setStroke(new BasicStroke(2 * t.outlineWidth(), BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
                g.draw(shape);
            }
            g.setColor(new Color(t.color()));
            g.fill(shape);
            double[] quad = new double[8];
            double[][] corners = {{vb.getMinX(), vb.getMinY()}, {vb.getMaxX(), vb.getMinY()}, {vb.getMaxX(), vb.getMaxY()}, {vb.getMinX(), vb.getMaxY()}};
            for (int i = 0; i < 4; i++) {
                Point2D q = at.transform(new Point2D.Double(corners[i][0], corners[i][1]), null);
                quad[2 * i] = q.getX();
                quad[2 * i + 1] = q.getY();
            }
            quads.add(quad);
            shapes.add(shape);
        }
        g.dispose();

        List<RenderedLine> lines = new ArrayList<>();
        Homography forward = null;
        if (spec.perspective() != null) {
            double[] corners = {0, 0, w, 0, w, h, 0, h};
            forward = Homography.fromPoints(spec.perspective(), corners);
            int[] warped = Homography.warp(px, w, h, Homography.fromPoints(corners, spec.perspective()));
            System.arraycopy(warped, 0, px, 0, px.length);
        }
        for (int i = 0; i < spec.items().size(); i++) {
            TextItem t = spec.items().get(i);
            Rectangle2D b = shapes.get(i).getBounds2D();
            double[] bbox = {b.getX(), b.getY(), b.getWidth(), b.getHeight()};
            // Contrast is measured before the warp: the warp moves pixels but does not change what
            // colour the text sits on.
            double bgLum = meanLuminance(under, w, h, bbox);
            double tl = Colors.luminance(t.color());
            double contrast = Colors.contrast(tl, bgLum);
            double effective = t.outline() >= 0 ? Math.max(contrast, Colors.contrast(t.color(), t.outline())) : contrast;
            double[] quad = quads.get(i);
            if (forward != null) {
                double minX = Double.MAX_VALUE, minY = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
                for (int k = 0; k < 4; k++) {
                    double[] q = forward.apply(quad[2 * k], quad[2 * k + 1]);
                    quad[2 * k] = q[0];
                    quad[2 * k + 1] = q[1];
                    minX = Math.min(minX, q[0]); maxX = Math.max(maxX, q[0]);
                    minY = Math.min(minY, q[1]); maxY = Math.max(maxY, q[1]);
                }
                bbox = new double[] {minX, minY, maxX - minX, maxY - minY};
            }
            lines.add(new RenderedLine(t, bbox, quad, contrast, effective));
        }
        return new RenderedSample(spec, img, lines);
    }

    /** Mean relative luminance of the pixels inside the box (clipped to the image). */
    static double meanLuminance(int[] px, int w, int h, double[] bbox) {
        int x0 = Math.max(0, (int) Math.floor(bbox[0])), y0 = Math.max(0, (int) Math.floor(bbox[1]));
        int x1 = Math.min(w, (int) Math.ceil(bbox[0] + bbox[2])), y1 = Math.min(h, (int) Math.ceil(bbox[1] + bbox[3]));
        double sum = 0;
        long n = 0;
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                int c = px[y * w + x];
                sum += 0.2126 * LINEAR[(c >> 16) & 255] + 0.7152 * LINEAR[(c >> 8) & 255] + 0.0722 * LINEAR[c & 255];
                n++;
            }
        }
        return n == 0 ? 0 : sum / n;
    }
}
