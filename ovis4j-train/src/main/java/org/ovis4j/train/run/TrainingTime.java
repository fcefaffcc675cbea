package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.ovis4j.core.OvisException;

/**
 * {@code time.csv} of a run folder: the wall time of the training steps (checkpoints, samples and
 * evaluations excluded) up to each checkpoint, summed over every process of the run, so a resumed run's
 * learning curve keeps one time axis. It lives beside the checkpoints, not in them: a checkpoint holds
 * only what decides the run, and is the same bytes whether or not the run was interrupted, which wall
 * time never is.
 */
final class TrainingTime {
    static final String FILE = "time.csv", HEADER = "step,train_seconds";

    private TrainingTime() {}

    /** Adds (or replaces) the row of checkpoint {@code step}, dropping any rows after it (a run resumed earlier). */
    static void record(RunFolder folder, long step, double seconds) {
        Path file = folder.root().resolve(FILE);
        List<String> rows = new ArrayList<>();
        if (Files.exists(file)) {
            for (String line : lines(file)) {
                long at = stepOf(file, line);
                if (at >= 0 && at < step) rows.add(line);
            }
        }
        rows.add(step + "," + String.format(Locale.ROOT, "%.3f", seconds));
        try {
            folder.writeAtomically(file, HEADER + "\n" + String.join("\n", rows) + "\n");
        } catch (IOException e) {
            throw new OvisException(file + ": cannot write (" + e.getMessage() + ")");
        }
    }

    /** The training seconds up to checkpoint {@code step}, or 0 when the run folder has no record of it (an earlier build's run). */
    static double read(Path runRoot, long step) {
        Path file = runRoot.resolve(FILE);
        if (!Files.exists(file)) return 0;
        for (String line : lines(file)) {
            if (stepOf(file, line) != step) continue;
            try {
                return Double.parseDouble(line.split(",")[1]);
            } catch (NumberFormatException e) {
                throw new OvisException(file + ": not " + HEADER + " rows (" + line + ")");
            }
        }
        return 0;
    }

    /** The step of a row, -1 for the header. */
    private static long stepOf(Path file, String line) {
        if (line.equals(HEADER)) return -1;
        String[] f = line.split(",");
        try {
            if (f.length != 2) throw new NumberFormatException();
            return Long.parseLong(f[0]);
        } catch (NumberFormatException e) {
            throw new OvisException(file + ": not " + HEADER + " rows (" + line + ")");
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new OvisException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }
}
