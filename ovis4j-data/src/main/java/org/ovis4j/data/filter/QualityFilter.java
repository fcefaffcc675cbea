package org.ovis4j.data.filter;

import java.awt.image.BufferedImage;
import org.ovis4j.data.render.RenderedLine;
import org.ovis4j.data.render.RenderedSample;

/**
 * Rejects samples whose text a reader could not be expected to read, so that captions never quote
 * text the image does not show: blank images, lines whose measured contrast is too low, and lines
 * that run off the canvas (a caption quoting "SUMMER SALE" over an image showing "SUMMER SA" would
 * teach the model the wrong thing).
 */
public final class QualityFilter {
    /** Why a sample was dropped; {@code id} is what reports and manifests use. */
    public enum Reason {
        BLANK("blank"), LOW_CONTRAST("low_contrast"), CLIPPED("clipped"), DUPLICATE("duplicate");

        public final String id;

        Reason(String id) {
            this.id = id;
        }
    }

    public record Verdict(Reason reason, String detail) {}

    private final double minContrast;
    private final double blankStd;

    /**
     * @param minContrast lowest WCAG contrast a line may have (an outline counts as its surround)
     * @param blankStd    an image whose luma standard deviation (0..255) is below this is blank
     */
    public QualityFilter(double minContrast, double blankStd) {
        this.minContrast = minContrast;
        this.blankStd = blankStd;
    }

    /** Null when the sample passes. */
    public Verdict check(RenderedSample s) {
        if (s.lines().isEmpty() || lumaStd(s.image()) < blankStd) {
            return new Verdict(Reason.BLANK, "no visible content (luma std " + String.format("%.2f", lumaStd(s.image())) + ")");
        }
        int w = s.image().getWidth(), h = s.image().getHeight();
        for (int i = 0; i < s.lines().size(); i++) {
            RenderedLine l = s.lines().get(i);
            double[] q = l.quad();
            for (int k = 0; k < 4; k++) {
                // One pixel of slack: antialiasing may touch the border without losing a glyph.
                if (q[2 * k] < -1 || q[2 * k] > w + 1 || q[2 * k + 1] < -1 || q[2 * k + 1] > h + 1) {
                    return new Verdict(Reason.CLIPPED, "line " + (i + 1) + " \"" + l.item().text() + "\" runs off the image");
                }
            }
        }
        for (int i = 0; i < s.lines().size(); i++) {
            RenderedLine l = s.lines().get(i);
            if (l.effectiveContrast() < minContrast) {
                return new Verdict(Reason.LOW_CONTRAST, String.format("line %d \"%s\" contrast %.2f < %.2f", i + 1,
                        l.item().text(), l.effectiveContrast(), minContrast));
            }
        }
        return null;
    }

    static double lumaStd(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        double sum = 0, sq = 0;
        long n = 0;
        // Every other pixel in each direction is plenty for a blank test.
        for (int y = 0; y < h; y += 2) {
            for (int x = 0; x < w; x += 2) {
                int c = img.getRGB(x, y);
                double l = 0.299 * ((c >> 16) & 255) + 0.587 * ((c >> 8) & 255) + 0.114 * (c & 255);
                sum += l;
                sq += l * l;
                n++;
            }
        }
        double mean = sum / n;
        return Math.sqrt(Math.max(0, sq / n - mean * mean));
    }
}
