package org.ovis4j.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds text lines in an ink map (0 = ink) by grouping connected components, so each line can be
 * read on its own. Whole-page OCR misses short lines on buttons, bands and small signs because its
 * layout analysis takes the boxed area for a picture; a crop of just the line avoids the question.
 * Frames and large blobs (panel edges, bars) are left out by size and fill.
 */
public final class LineFinder {
    private LineFinder() {}

    /** A line's box in pixels: x, y, width, height. */
    public record Box(int x, int y, int w, int h) {}

    public static List<Box> find(byte[] ink, int w, int h) {
        List<int[]> comps = components(ink, w, h); // each: minX, minY, maxX, maxY, count
        List<int[]> kept = new ArrayList<>();
        for (int[] c : comps) {
            int cw = c[2] - c[0] + 1, ch = c[3] - c[1] + 1;
            double fill = (double) c[4] / ((double) cw * ch);
            boolean frame = cw > w * 0.6 || ch > h * 0.3 || (fill < 0.1 && cw * ch > 400);
            boolean speck = c[4] < 4 || ch < 3;
            if (!frame && !speck) kept.add(new int[] {c[0], c[1], c[2], c[3]});
        }
        kept.sort((a, b) -> Integer.compare(a[0], b[0]));
        List<int[]> lines = new ArrayList<>();
        for (int[] c : kept) {
            int[] home = null;
            for (int[] l : lines) if (joins(l, c)) { home = l; break; }
            if (home == null) lines.add(c.clone());
            else grow(home, c);
        }
        // Joining in x order can leave pieces of one line apart (a tall first glyph, a low accent):
        // merge lines until nothing joins.
        boolean merged = true;
        while (merged) {
            merged = false;
            outer:
            for (int i = 0; i < lines.size(); i++) {
                for (int j = i + 1; j < lines.size(); j++) {
                    if (joins(lines.get(i), lines.get(j)) || joins(lines.get(j), lines.get(i))) {
                        grow(lines.get(i), lines.get(j));
                        lines.remove(j);
                        merged = true;
                        break outer;
                    }
                }
            }
        }
        List<Box> out = new ArrayList<>();
        for (int[] l : lines) {
            int lw = l[2] - l[0] + 1, lh = l[3] - l[1] + 1;
            if (lh >= 8 && lw >= lh * 0.8) out.add(new Box(l[0], l[1], lw, lh));
        }
        out.sort((a, b) -> a.y() != b.y() ? Integer.compare(a.y(), b.y()) : Integer.compare(a.x(), b.x()));
        return out;
    }

    /** Whether a component belongs to a line: mostly at the same height and close on the left or right. */
    private static boolean joins(int[] line, int[] c) {
        int lh = line[3] - line[1] + 1, ch = c[3] - c[1] + 1;
        int overlap = Math.min(line[3], c[3]) - Math.max(line[1], c[1]) + 1;
        if (overlap < 0.5 * Math.min(lh, ch)) return false;
        // A lone dot or accent is small against the line; heights of real glyphs stay within 3x.
        if (Math.max(lh, ch) > 3 * Math.min(lh, ch) && ch > lh) return false;
        int gap = Math.max(c[0] - line[2], line[0] - c[2]);
        return gap <= 1.2 * Math.max(lh, ch);
    }

    private static void grow(int[] line, int[] c) {
        line[0] = Math.min(line[0], c[0]);
        line[1] = Math.min(line[1], c[1]);
        line[2] = Math.max(line[2], c[2]);
        line[3] = Math.max(line[3], c[3]);
    }

    /** 8-connected components of the ink, by flood fill with an explicit stack. */
    private static List<int[]> components(byte[] ink, int w, int h) {
        int[] label = new int[w * h];
        int[] stack = new int[w * h];
        List<int[]> out = new ArrayList<>();
        int next = 0;
        for (int start = 0; start < ink.length; start++) {
            if (ink[start] != 0 || label[start] != 0) continue;
            next++;
            int sp = 0;
            stack[sp++] = start;
            label[start] = next;
            int minX = w, minY = h, maxX = -1, maxY = -1, count = 0;
            while (sp > 0) {
                int p = stack[--sp];
                int x = p % w, y = p / w;
                count++;
                if (x < minX) minX = x;
                if (x > maxX) maxX = x;
                if (y < minY) minY = y;
                if (y > maxY) maxY = y;
                for (int dy = -1; dy <= 1; dy++) {
                    int yy = y + dy;
                    if (yy < 0 || yy >= h) continue;
                    for (int dx = -1; dx <= 1; dx++) {
                        int xx = x + dx;
                        if (xx < 0 || xx >= w) continue;
                        int q = yy * w + xx;
                        if (ink[q] == 0 && label[q] == 0) {
                            label[q] = next;
                            stack[sp++] = q;
                        }
                    }
                }
            }
            out.add(new int[] {minX, minY, maxX, maxY, count});
        }
        return out;
    }
}
