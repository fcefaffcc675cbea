package org.ovis4j.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.ovis4j.train.run.Trainer;

/**
 * Training progress on stderr, in the style of {@link ProgressBar}: on a terminal one bar redrawn in
 * place (step, loss, samples/s, ETA); otherwise one line per 1 % of the run (and per checkpoint), so
 * that logs stay short. Messages, checkpoints and samples get lines of their own.
 */
final class TrainProgress implements Trainer.Listener {
    private final PrintStream out;
    private final boolean terminal;
    private boolean barShown;

    TrainProgress(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override
    public void onMessage(String message) {
        line(message);
    }

    @Override
    public void onWarning(String message) {
        line("warning: " + message);
    }

    @Override
    public void onStep(Trainer.Progress p) {
        String stats = String.format("%d/%d  loss %.4f  lr %.3g  %.2f samples/s  eta %s", p.step(), p.steps(), p.loss(), p.lr(),
                p.samplesPerSecond(), duration(p.etaSeconds()));
        if (terminal) {
            out.printf("\r  %s %s ", ProgressBar.bar(p.step(), p.steps()), stats);
            barShown = true;
        } else if (p.step() % Math.max(1, p.steps() / 100) == 0 || p.step() == p.steps() || p.step() == 1) {
            out.println("  step " + stats);
        }
        out.flush();
    }

    @Override
    public void onCheckpoint(long step, Path dir) {
        line("checkpoint " + dir);
    }

    @Override
    public void onSamples(long step, List<Path> images) {
        line("samples of step " + step + ": " + (images.isEmpty() ? "none" : images.getFirst().getParent()));
    }

    void finish() {
        if (barShown) out.println();
        barShown = false;
        out.flush();
    }

    private void line(String s) {
        if (barShown) out.println();
        barShown = false;
        out.println(s);
        out.flush();
    }

    static String duration(double seconds) {
        if (!Double.isFinite(seconds)) return "?";
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : s + " s";
    }
}
