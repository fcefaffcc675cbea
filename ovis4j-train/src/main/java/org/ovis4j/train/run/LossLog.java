package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.ovis4j.core.OvisException;

/**
 * The loss curve of a run, one row per optimizer step: the step, its loss (mean over the batch), the
 * learning rate it ran at and the gradient norm before clipping. Written as CSV with the values'
 * shortest exact decimal forms, so a row read back is the same numbers (a resumed run's curve
 * continues the saved one bit for bit).
 */
final class LossLog {
    static final String FILE = "loss.csv", HEADER = "step,loss,lr,grad_norm";

    record Row(long step, double loss, double lr, float gradNorm) {}

    private final List<Row> rows = new ArrayList<>();

    void add(Row r) {
        if (!rows.isEmpty() && r.step() <= rows.getLast().step())
            throw new IllegalStateException("loss log: step " + r.step() + " after " + rows.getLast().step());
        rows.add(r);
    }

    List<Row> rows() { return Collections.unmodifiableList(rows); }

    String csv() {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        for (Row r : rows) b.append(r.step()).append(',').append(r.loss()).append(',').append(r.lr()).append(',').append(r.gradNorm()).append('\n');
        return b.toString();
    }

    /** The rows of a CSV written by {@link #csv}, up to and including step {@code last}. */
    static LossLog read(Path file, long last) {
        LossLog log = new LossLog();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new OvisException(file + ": cannot read (" + e.getMessage() + ")");
        }
        if (lines.isEmpty() || !lines.getFirst().equals(HEADER)) throw new OvisException(file + ": not a loss log (header \"" + HEADER + "\")");
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",");
            try {
                if (f.length != 4) throw new NumberFormatException(f.length + " fields");
                Row r = new Row(Long.parseLong(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]), Float.parseFloat(f[3]));
                if (r.step() <= last) log.add(r);
            } catch (RuntimeException e) {
                throw new OvisException(file + ": line " + (i + 1) + " is not step,loss,lr,grad_norm (" + e.getMessage() + ")");
            }
        }
        return log;
    }
}
