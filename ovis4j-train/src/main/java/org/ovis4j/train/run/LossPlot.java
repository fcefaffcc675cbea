package org.ovis4j.train.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.image.PngWriter;

/**
 * The loss curve as a PNG, drawn pixel by pixel (no AWT, no fonts needed): axes with ticks labelled
 * by a built-in 5x7 bitmap font, each step's loss in light blue and a moving average (window of 5 % of
 * the steps, at least 1) in dark blue. Linear axes from step 0 and loss 0 to rounded-up maxima.
 */
final class LossPlot {
    static final int WIDTH = 720, HEIGHT = 420;
    private static final int LEFT = 70, RIGHT = 20, TOP = 20, BOTTOM = 50, SCALE = 2;
    private static final int[] AXIS = {40, 40, 40}, GRID = {225, 225, 225}, RAW = {160, 190, 235}, SMOOTH = {20, 60, 160};

    /** 5x7 glyphs, rows top to bottom, '#' = ink. */
    private static final Map<Character, String[]> GLYPHS = Map.ofEntries(
            Map.entry('0', new String[] {" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "}),
            Map.entry('1', new String[] {"  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}),
            Map.entry('2', new String[] {" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"}),
            Map.entry('3', new String[] {"#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "}),
            Map.entry('4', new String[] {"   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "}),
            Map.entry('5', new String[] {"#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "}),
            Map.entry('6', new String[] {"  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "}),
            Map.entry('7', new String[] {"#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "}),
            Map.entry('8', new String[] {" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "}),
            Map.entry('9', new String[] {" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "}),
            Map.entry('.', new String[] {"     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "}),
            Map.entry('-', new String[] {"     ", "     ", "     ", "#####", "     ", "     ", "     "}),
            Map.entry('e', new String[] {"     ", "     ", " ### ", "#   #", "#####", "#    ", " ### "}),
            Map.entry('s', new String[] {"     ", "     ", " ####", "#    ", " ### ", "    #", "#### "}),
            Map.entry('t', new String[] {" #   ", " #   ", "###  ", " #   ", " #   ", " #  #", "  ## "}),
            Map.entry('p', new String[] {"     ", "     ", "#### ", "#   #", "#### ", "#    ", "#    "}),
            Map.entry('l', new String[] {" ##  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}),
            Map.entry('o', new String[] {"     ", "     ", " ### ", "#   #", "#   #", "#   #", " ### "}),
            Map.entry(' ', new String[] {"     ", "     ", "     ", "     ", "     ", "     ", "     "}));

    private final byte[] rgb = new byte[WIDTH * HEIGHT * 3];

    private LossPlot() {
        java.util.Arrays.fill(rgb, (byte) 255);
    }

    /** Writes the plot of {@code rows} to {@code file} (atomically, by the PNG writer). */
    static void write(Path file, List<LossLog.Row> rows) {
        LossPlot p = new LossPlot();
        p.draw(rows);
        PngWriter.write(file, p.rgb, WIDTH, HEIGHT, Map.of("Title", "ovis4j training loss"));
    }

    /** The drawn pixels (RGB, row-major), for tests. */
    static byte[] render(List<LossLog.Row> rows) {
        LossPlot p = new LossPlot();
        p.draw(rows);
        return p.rgb;
    }

    private void draw(List<LossLog.Row> rows) {
        int x0 = LEFT, x1 = WIDTH - RIGHT, y0 = HEIGHT - BOTTOM, y1 = TOP;
        long lastStep = rows.isEmpty() ? 1 : Math.max(1, rows.getLast().step());
        double maxLoss = 0;
        for (LossLog.Row r : rows) if (Double.isFinite(r.loss())) maxLoss = Math.max(maxLoss, r.loss());
        double yTick = nice(maxLoss > 0 ? maxLoss / 5 : 0.2), yMax = Math.ceil((maxLoss > 0 ? maxLoss : 1) / yTick) * yTick;
        double xTick = Math.max(1, nice(lastStep / 6.0)), xMax = Math.ceil(lastStep / xTick) * xTick;

        for (int k = 0; k * yTick <= yMax * (1 + 1e-9); k++) {
            int y = (int) Math.round(y0 - (y0 - y1) * (k * yTick / yMax));
            line(x0, y, x1, y, GRID);
            line(x0 - 5, y, x0, y, AXIS);
            String label = label(k * yTick, yTick);
            text(label, x0 - 8 - width(label), y - 7);
        }
        for (int k = 0; k * xTick <= xMax * (1 + 1e-9); k++) {
            int x = (int) Math.round(x0 + (x1 - x0) * (k * xTick / xMax));
            line(x, y0, x, y0 + 5, AXIS);
            String label = Long.toString(Math.round(k * xTick));
            text(label, x - width(label) / 2, y0 + 9);
        }
        text("step", (x0 + x1) / 2 - width("step") / 2, y0 + 30);
        text("loss", x0 + 8, 2);
        line(x0, y0, x1, y0, AXIS);
        line(x0, y0, x0, y1, AXIS);

        int window = Math.max(1, rows.size() / 20);
        double sum = 0;
        int prevX = -1, prevY = -1, prevSx = -1, prevSy = -1;
        for (int i = 0; i < rows.size(); i++) {
            LossLog.Row r = rows.get(i);
            sum += r.loss();
            if (i >= window) sum -= rows.get(i - window).loss();
            int x = (int) Math.round(x0 + (x1 - x0) * (r.step() / xMax));
            int y = yPixel(r.loss(), yMax, y0, y1);
            int sy = yPixel(sum / Math.min(i + 1, window), yMax, y0, y1);
            if (prevX >= 0) {
                line(prevX, prevY, x, y, RAW);
                if (i >= window) line(prevSx, prevSy, x, sy, SMOOTH);
            }
            prevX = x;
            prevY = y;
            if (i + 1 >= window) {
                prevSx = x;
                prevSy = sy;
            }
        }
    }

    private static int yPixel(double loss, double yMax, int y0, int y1) {
        double v = Double.isFinite(loss) ? Math.max(0, Math.min(loss, yMax)) : yMax;
        return (int) Math.round(y0 - (y0 - y1) * (v / yMax));
    }

    /** 1, 2 or 5 times a power of ten, at least {@code x}. */
    static double nice(double x) {
        double p = Math.pow(10, Math.floor(Math.log10(x)));
        for (double m : new double[] {1, 2, 5, 10}) if (m * p >= x * (1 - 1e-9)) return m * p;
        return 10 * p;
    }

    /** A tick value with as many decimals as the tick spacing needs. */
    static String label(double v, double tick) {
        if (tick < 1e-3) return String.format(java.util.Locale.ROOT, "%.0e", v).replace("e-0", "e-");
        int decimals = Math.max(0, (int) Math.ceil(-Math.log10(tick) - 1e-9));
        return String.format(java.util.Locale.ROOT, "%." + decimals + "f", v);
    }

    private static int width(String s) {
        return s.length() * 6 * SCALE - SCALE;
    }

    private void text(String s, int x, int y) {
        for (int c = 0; c < s.length(); c++) {
            String[] g = GLYPHS.getOrDefault(s.charAt(c), GLYPHS.get(' '));
            for (int gy = 0; gy < 7; gy++)
                for (int gx = 0; gx < 5; gx++)
                    if (g[gy].charAt(gx) == '#')
                        for (int dy = 0; dy < SCALE; dy++)
                            for (int dx = 0; dx < SCALE; dx++) set(x + (c * 6 + gx) * SCALE + dx, y + gy * SCALE + dy, AXIS);
        }
    }

    /** Bresenham's line. */
    private void line(int xa, int ya, int xb, int yb, int[] color) {
        int dx = Math.abs(xb - xa), dy = -Math.abs(yb - ya), sx = xa < xb ? 1 : -1, sy = ya < yb ? 1 : -1, err = dx + dy;
        while (true) {
            set(xa, ya, color);
            if (xa == xb && ya == yb) return;
            int e2 = 2 * err;
            if (e2 >= dy) {
                err += dy;
                xa += sx;
            }
            if (e2 <= dx) {
                err += dx;
                ya += sy;
            }
        }
    }

    private void set(int x, int y, int[] color) {
        if (x < 0 || y < 0 || x >= WIDTH || y >= HEIGHT) return;
        int i = (y * WIDTH + x) * 3;
        rgb[i] = (byte) color[0];
        rgb[i + 1] = (byte) color[1];
        rgb[i + 2] = (byte) color[2];
    }
}
