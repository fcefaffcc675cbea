package org.ovis4j.cli;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.hub.ModelRef;
import org.ovis4j.hub.PullListener;

/**
 * A pull's progress on stderr, with {@link ProgressBar}'s bars: on a terminal a block redrawn in place, one bar per file
 * in flight and one for the total (bytes, speed, ETA); otherwise a line per file as it completes, so logs stay short.
 * Called from the download threads, hence synchronized.
 */
final class PullProgress implements PullListener {
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int NAME_WIDTH = 48;

    private final PrintStream out;
    private final boolean terminal;
    private final Map<String, long[]> files = new LinkedHashMap<>(); // path -> {done, size, finished 0/1, reported 0/1}
    private final long start = System.nanoTime();
    private long total, initial, lastDraw;
    private int drawnLines;

    PullProgress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override
    public synchronized void onPlan(ModelRef model, String commit, List<PlannedFile> plan) {
        long cachedBytes = 0;
        int cached = 0;
        for (PlannedFile f : plan) {
            files.put(f.path(), new long[] {f.cached() ? f.size() : 0, f.size(), f.cached() ? 1 : 0, 0});
            total += f.size();
            if (f.cached()) {
                cached++;
                cachedBytes += f.size();
            }
        }
        initial = cachedBytes;
        out.printf("pulling %s (commit %s): %d files, %s%s%n", model, commit.substring(0, Math.min(12, commit.length())), plan.size(),
                megabytes(total - cachedBytes) + " to download", cached == 0 ? "" : ", " + cached + " already in the cache");
        out.flush();
    }

    @Override
    public synchronized void onProgress(String path, long done, long size) {
        long[] f = files.computeIfAbsent(path, k -> new long[] {0, size, 0, 0});
        if (f[3] == 0) initial += done; // a download's first report: the bytes kept from before, not fetched now
        f[3] = 1;
        f[0] = done;
        if (terminal && System.nanoTime() - lastDraw > REDRAW_NANOS) draw();
    }

    @Override
    public synchronized void onFileDone(String path) {
        long[] f = files.get(path);
        if (f == null || f[2] == 1) return;
        f[0] = f[1];
        f[2] = 1;
        if (terminal) {
            draw();
        } else {
            out.printf("  %s (%s)  %s%n", path, megabytes(f[1]), totals());
            out.flush();
        }
    }

    @Override
    public synchronized void onWarning(String message) {
        clear();
        out.println("warning: " + message);
        out.flush();
    }

    /** Ends the display (after the last file, or before an error line). */
    synchronized void finish() {
        if (terminal && drawnLines > 0) draw();
        drawnLines = 0;
        out.flush();
    }

    private void draw() {
        clear();
        int lines = 0;
        for (var e : files.entrySet()) {
            long[] f = e.getValue();
            if (f[2] == 1 || f[3] == 0) continue; // finished or not started: only transfers in flight get a bar
            out.printf("  %s %3d%%  %9s  %s%n", ProgressBar.bar(f[0], Math.max(1, f[1])), percent(f[0], f[1]), megabytes(f[1]), shortName(e.getKey()));
            lines++;
        }
        out.printf("  %s %3d%%  %s%n", ProgressBar.bar(done(), Math.max(1, total)), percent(done(), total), totals());
        drawnLines = lines + 1;
        lastDraw = System.nanoTime();
        out.flush();
    }

    /** Moves back over the block last drawn and blanks it. */
    private void clear() {
        if (!terminal || drawnLines == 0) return;
        out.print("\033[" + drawnLines + "F\033[J");
        drawnLines = 0;
    }

    private long done() {
        long d = 0;
        for (long[] f : files.values()) d += f[0];
        return d;
    }

    private String totals() {
        long done = done();
        double seconds = (System.nanoTime() - start) / 1e9, rate = (done - initial) / Math.max(seconds, 1e-3);
        // the first second's rate is mostly connection set-up: no estimate from it
        String eta = rate > 0 && seconds >= 2 ? TrainProgress.duration((total - done) / rate) : "?";
        return String.format("%s of %s, %s/s, eta %s", megabytes(done), megabytes(total), megabytes((long) rate), eta);
    }

    private static int percent(long done, long size) {
        return size <= 0 ? 100 : (int) (done * 100 / size);
    }

    private static String megabytes(long bytes) {
        return bytes >= 1e9 ? String.format("%.2f GB", bytes / 1e9) : bytes >= 1e6 ? String.format("%.1f MB", bytes / 1e6)
                : String.format("%.1f kB", bytes / 1e3);
    }

    private static String shortName(String path) {
        return path.length() <= NAME_WIDTH ? path : "…" + path.substring(path.length() - NAME_WIDTH + 1);
    }
}
