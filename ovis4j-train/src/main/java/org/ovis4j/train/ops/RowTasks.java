package org.ovis4j.train.ops;

import java.util.function.IntConsumer;
import org.ovis4j.core.parallel.Parallel;

/**
 * Row loops of the element-wise kernels spread over the pool in tasks of at least {@link #MIN_WORK}
 * elements: a task per row costs a pool hand-off each, which for the narrow rows of small models (and
 * the per-head rows of the QK norms) is more than the row's work. Rows are independent, so the grouping
 * never changes a result.
 */
public final class RowTasks {
    /** Elements per task, at least. */
    static final int MIN_WORK = 1 << 14;

    private RowTasks() {}

    /** body.accept(r) for every r in [0, rows), rows of about {@code rowWork} elements each. */
    public static void forEach(int rows, int rowWork, IntConsumer body) {
        int perTask = Math.max(1, MIN_WORK / Math.max(1, rowWork));
        int tasks = (rows + perTask - 1) / perTask;
        Parallel.forEach(tasks, t -> {
            for (int r = t * perTask, e = Math.min(rows, r + perTask); r < e; r++) body.accept(r);
        });
    }
}
