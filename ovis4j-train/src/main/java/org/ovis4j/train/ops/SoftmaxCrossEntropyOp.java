package org.ovis4j.train.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.kernel.VectorMath;

/**
 * Cross-entropy of a softmax over rows of logits, forward and backward side by side (torch's
 * {@code cross_entropy} on one target class per row): loss_r = lse_r − z_r[t_r] with
 * lse_r = log Σ_c exp z_rc, and dz_rc = scale·(softmax_rc − [c = t_r]). The forward saves lse per row,
 * from which the backward recomputes the softmax in place of the logits (no second array of the
 * 151k-wide rows). Sums of exponentials run in float lanes over blocks of {@link #BLOCK} values, the
 * blocks added in double, rows in parallel; the result does not depend on the thread count.
 */
public final class SoftmaxCrossEntropyOp {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Values per float partial sum (a lane then adds BLOCK/L terms: a relative error of BLOCK/L·u at worst). */
    private static final int BLOCK = 1024;

    private SoftmaxCrossEntropyOp() {}

    /**
     * Writes lse[r] and returns Σ_r loss_r (in double, rows in order) over rows r in [0, rows) of
     * z[r·classes ...] with targets t[r] in [0, classes).
     */
    public static double forward(float[] z, int rows, int classes, int[] t, float[] lse) {
        double[] loss = new double[rows];
        RowTasks.forEach(rows, classes, r -> {
            int o = r * classes;
            FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            int c = 0;
            for (; c + L <= classes; c += L) mv = mv.max(FloatVector.fromArray(S, z, o + c));
            float max = mv.reduceLanes(VectorOperators.MAX);
            for (; c < classes; c++) max = Math.max(max, z[o + c]);
            double sum = 0;
            FloatVector m = FloatVector.broadcast(S, max);
            for (int b0 = 0; b0 < classes; b0 += BLOCK) {
                int b1 = Math.min(classes, b0 + BLOCK), j = b0;
                FloatVector acc = FloatVector.zero(S);
                for (; j + L <= b1; j += L) acc = acc.add(VectorMath.expNonPositive(FloatVector.fromArray(S, z, o + j).sub(m)));
                double part = VectorMath.sumLanes(acc);
                for (; j < b1; j++) part += Math.exp(z[o + j] - max);
                sum += part;
            }
            double l = max + Math.log(sum);
            lse[r] = (float) l;
            loss[r] = l - z[o + t[r]];
        });
        double total = 0;
        for (double l : loss) total += l;
        return total;
    }

    /** Overwrites z with dz = scale·(exp(z − lse) − onehot(t)), row by row. */
    public static void backward(float[] z, int rows, int classes, int[] t, float[] lse, float scale) {
        RowTasks.forEach(rows, classes, r -> {
            int o = r * classes, c = 0;
            FloatVector m = FloatVector.broadcast(S, lse[r]);
            for (; c + L <= classes; c += L)
                VectorMath.expNonPositive(FloatVector.fromArray(S, z, o + c).sub(m)).mul(scale).intoArray(z, o + c);
            for (; c < classes; c++) z[o + c] = (float) Math.exp(z[o + c] - lse[r]) * scale;
            z[o + t[r]] -= scale;
        });
    }
}
