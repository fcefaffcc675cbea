package org.ovis4j.cli;

import java.io.PrintStream;
import org.ovis4j.pipeline.ProgressListener;

/**
 * Denoising progress on stderr: a bar redrawn in place on a terminal, otherwise one line per
 * stage and per step, so logs stay readable.
 */
final class ProgressBar implements ProgressListener {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final boolean terminal;
    private long totalNanos;

    /** The bar itself, {@code [####    ]}, for {@code done} of {@code total}: shared by the progress displays. */
    static String bar(long done, long total) {
        int filled = (int) (done * WIDTH / total);
        return "[" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "]";
    }

    ProgressBar(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override
    public void onStage(String stage) {
        if (stage.equals("decode") && terminal) out.println();
        out.println(stage + "...");
    }

    @Override
    public void onStep(int step, int steps, long stepNanos) {
        totalNanos += stepNanos;
        double stepSeconds = stepNanos / 1e9, mean = totalNanos / 1e9 / step;
        if (terminal) {
            out.printf("\r  %s %d/%d  %.2f s/step  eta %.0f s ", bar(step, steps), step, steps, stepSeconds, mean * (steps - step));
        } else {
            out.printf("  step %d/%d  %.2f s%n", step, steps, stepSeconds);
        }
        out.flush();
    }

    @Override
    public void onWarning(String message) {
        if (terminal) out.print("\r");
        out.println("warning: " + message);
    }
}
