package org.ovis4j.train.ops;

import org.ovis4j.core.parallel.Parallel;

/**
 * Sums over rows, per column: the reductions of every backward pass that turns per-row gradients
 * into a parameter's gradient (bias, AdaLN shift/scale/gate, norm weights). Rows are summed in
 * double within fixed chunks and the chunks added in order, so the result has the same bits for
 * any thread count (gradient checkpointing and resumed runs rely on that).
 */
final class ColumnSums {
    /** Rows per chunk: enough work per task, few enough partial vectors to keep. */
    private static final int CHUNK = 64;

    private ColumnSums() {}

    /** Adds row r's contribution to acc[0 .. width). */
    interface Row {
        void add(int r, double[] acc);
    }

    /** Σ over r < rows of each row's contribution, as a double vector of {@code width}. */
    static double[] of(int rows, int width, Row row) {
        int chunks = (rows + CHUNK - 1) / CHUNK;
        double[][] partial = new double[chunks][];
        // Tasks of several chunks when rows are narrow (the chunks, not the tasks, fix the order of the sums).
        int perTask = Math.max(1, RowTasks.MIN_WORK / (CHUNK * Math.max(1, width)));
        Parallel.forEach((chunks + perTask - 1) / perTask, t -> {
            for (int c = t * perTask, ce = Math.min(chunks, c + perTask); c < ce; c++) {
                double[] acc = new double[width];
                for (int r = c * CHUNK, e = Math.min(rows, r + CHUNK); r < e; r++) row.add(r, acc);
                partial[c] = acc;
            }
        });
        double[] sum = new double[width];
        for (double[] p : partial) for (int i = 0; i < width; i++) sum[i] += p[i];
        return sum;
    }

    /** dst[dstOff + i] += sum[srcOff + i] for i < n. */
    static void addInto(double[] sum, int srcOff, float[] dst, int dstOff, int n) {
        for (int i = 0; i < n; i++) dst[dstOff + i] += (float) sum[srcOff + i];
    }
}
