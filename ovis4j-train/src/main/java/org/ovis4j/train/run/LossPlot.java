package org.ovis4j.train.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.image.PngWriter;

/**
 * Line plots of a run as PNGs, drawn pixel by pixel (no AWT, no fonts needed): axes with ticks labelled
 * by a built-in 5x7 bitmap font, linear axes from 0 to rounded-up maxima. The loss curve: each step's
 * loss in light blue and a moving average (window of 5 % of the steps, at least 1) in dark blue. The
 * learning curve: OCR word accuracy and NED (both in [0, 1]) against the samples seen, as points joined
 * by lines.
 */
final class LossPlot {
    static final int WIDTH = 720, HEIGHT = 420;
    private static final int LEFT = 70, RIGHT = 20, TOP = 20, BOTTOM = 50, SCALE = 2;
    private static final int[] AXIS = {40, 40, 40}, GRID = {225, 225, 225}, RAW = {160, 190, 235}, SMOOTH = {20, 60, 160},
            SECOND = {200, 90, 30};

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
            Map.entry('(', new String[] {"   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # "}),
            Map.entry(')', new String[] {" #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   "}),
            Map.entry(',', new String[] {"     ", "     ", "     ", "     ", " ##  ", "  #  ", " #   "}),
            Map.entry('N', new String[] {"#   #", "##  #", "# # #", "#  ##", "#   #", "#   #", "#   #"}),
            Map.entry('E', new String[] {"#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####"}),
            Map.entry('D', new String[] {"#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "}),
            Map.entry('a', new String[] {"     ", "     ", " ### ", "    #", " ####", "#   #", " ####"}),
            Map.entry('c', new String[] {"     ", "     ", " ### ", "#    ", "#    ", "#   #", " ### "}),
            Map.entry('d', new String[] {"    #", "    #", " ## #", "#  ##", "#   #", "#   #", " ####"}),
            Map.entry('e', new String[] {"     ", "     ", " ### ", "#   #", "#####", "#    ", " ### "}),
            Map.entry('l', new String[] {" ##  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}),
            Map.entry('m', new String[] {"     ", "     ", "## # ", "# # #", "# # #", "#   #", "#   #"}),
            Map.entry('n', new String[] {"     ", "     ", "# ## ", "##  #", "#   #", "#   #", "#   #"}),
            Map.entry('o', new String[] {"     ", "     ", " ### ", "#   #", "#   #", "#   #", " ### "}),
            Map.entry('p', new String[] {"     ", "     ", "#### ", "#   #", "#### ", "#    ", "#    "}),
            Map.entry('r', new String[] {"     ", "     ", "# ## ", "##  #", "#    ", "#    ", "#    "}),
            Map.entry('s', new String[] {"     ", "     ", " ####", "#    ", " ### ", "    #", "#### "}),
            Map.entry('t', new String[] {" #   ", " #   ", "###  ", " #   ", " #   ", " #  #", "  ## "}),
            Map.entry('u', new String[] {"     ", "     ", "#   #", "#   #", "#   #", "#  ##", " ## #"}),
            Map.entry('w', new String[] {"     ", "     ", "#   #", "#   #", "# # #", "# # #", " # # "}),
            Map.entry('y', new String[] {"     ", "     ", "#   #", "#   #", " ####", "    #", " ### "}),
            Map.entry(' ', new String[] {"     ", "     ", "     ", "     ", "     ", "     ", "     "}));

    /** One line of a plot: its points in x order, its colour, and whether a moving average is drawn over it. */
    record Series(double[] x, double[] y, int[] color, boolean smoothed) {}

    private final byte[] rgb = new byte[WIDTH * HEIGHT * 3];

    private LossPlot() {
        java.util.Arrays.fill(rgb, (byte) 255);
    }

    /** Writes the plot of {@code rows} to {@code file} (atomically, by the PNG writer). */
    static void write(Path file, List<LossLog.Row> rows) {
        PngWriter.write(file, render(rows), WIDTH, HEIGHT, Map.of("Title", "ovis4j training loss"));
    }

    /** The drawn pixels (RGB, row-major), for tests. */
    static byte[] render(List<LossLog.Row> rows) {
        double[] x = new double[rows.size()], y = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            x[i] = rows.get(i).step();
            y[i] = rows.get(i).loss();
        }
        LossPlot p = new LossPlot();
        p.draw("step", "loss", 0, List.of(new Series(x, y, RAW, true)));
        return p.rgb;
    }

    /** The learning curve: word accuracy (dark blue) and NED (orange) in [0, 1] against the samples seen. */
    static void writeLearningCurve(Path file, List<LearningCurve.Row> rows) {
        double[] x = new double[rows.size()], acc = new double[rows.size()], ned = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            x[i] = rows.get(i).samples();
            acc[i] = rows.get(i).wordAccuracy();
            ned[i] = rows.get(i).ned();
        }
        LossPlot p = new LossPlot();
        p.draw("samples seen", "word accuracy (NED)", 1, List.of(new Series(x, ned, SECOND, false), new Series(x, acc, SMOOTH, false)));
        PngWriter.write(file, p.rgb, WIDTH, HEIGHT, Map.of("Title", "ovis4j learning curve (OCR of the evaluation prompts)"));
    }

    /** {@code fixedYMax} > 0: the y axis ends there; else at the data's rounded-up maximum. */
    private void draw(String xName, String yName, double fixedYMax, List<Series> series) {
        int x0 = LEFT, x1 = WIDTH - RIGHT, y0 = HEIGHT - BOTTOM, y1 = TOP;
        double lastX = 1, maxY = 0;
        for (Series s : series) {
            if (s.x().length > 0) lastX = Math.max(lastX, s.x()[s.x().length - 1]);
            for (double v : s.y()) if (Double.isFinite(v)) maxY = Math.max(maxY, v);
        }
        if (fixedYMax > 0) maxY = fixedYMax;
        double yTick = nice(maxY > 0 ? maxY / 5 : 0.2), yMax = Math.ceil((maxY > 0 ? maxY : 1) / yTick) * yTick;
        double xTick = Math.max(1, nice(lastX / 6.0)), xMax = Math.ceil(lastX / xTick) * xTick;

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
        text(xName, (x0 + x1) / 2 - width(xName) / 2, y0 + 30);
        text(yName, x0 + 8, 2);
        line(x0, y0, x1, y0, AXIS);
        line(x0, y0, x0, y1, AXIS);
        for (Series s : series) drawSeries(s, xMax, yMax, x0, x1, y0, y1);
    }

    private void drawSeries(Series s, double xMax, double yMax, int x0, int x1, int y0, int y1) {
        int n = s.x().length;
        int window = s.smoothed() ? Math.max(1, n / 20) : 1;
        double sum = 0;
        int prevX = -1, prevY = -1, prevSx = -1, prevSy = -1;
        int[] raw = s.smoothed() ? s.color() : null, mean = s.smoothed() ? SMOOTH : s.color();
        for (int i = 0; i < n; i++) {
            sum += s.y()[i];
            if (i >= window) sum -= s.y()[i - window];
            int x = (int) Math.round(x0 + (x1 - x0) * (s.x()[i] / xMax));
            int y = yPixel(s.y()[i], yMax, y0, y1);
            int sy = yPixel(sum / Math.min(i + 1, window), yMax, y0, y1);
            if (raw == null) dot(x, sy, mean);
            if (prevX >= 0) {
                if (raw != null) line(prevX, prevY, x, y, raw);
                if (i >= window) line(prevSx, prevSy, x, sy, mean);
            }
            prevX = x;
            prevY = y;
            if (i + 1 >= window) {
                prevSx = x;
                prevSy = sy;
            }
        }
    }

    private void dot(int x, int y, int[] color) {
        for (int dy = -2; dy <= 2; dy++)
            for (int dx = -2; dx <= 2; dx++) set(x + dx, y + dy, color);
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
