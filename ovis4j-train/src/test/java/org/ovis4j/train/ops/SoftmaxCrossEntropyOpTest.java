package org.ovis4j.train.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ovis4j.train.testing.GradCheck.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link SoftmaxCrossEntropyOp} against the definition in double, and its gradient against central
 * finite differences of that definition. Tolerances: the loss of a row is lse − z_t with |lse| ≲ 10;
 * the float exp (2 ulp), the float lane sums of up to 1024/L terms (≤ 64·u relative) and the rounding of
 * lse to float give ≲ 1e-5 absolute at this size; 2e-5 relative to Σ loss. dz = p − [c = t] with p ≤ 1 from
 * exp(z − lse): an error of lse's float rounding (|lse|·u ≈ 6e-7) times p, plus exp's 2 ulp; 1e-5 of the
 * largest |dz| (≈ 1) covers it with a margin.
 */
class SoftmaxCrossEntropyOpTest {
    static double rowLoss(double[] z, int o, int classes, int t) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) max = Math.max(max, z[o + c]);
        double s = 0;
        for (int c = 0; c < classes; c++) s += Math.exp(z[o + c] - max);
        return max + Math.log(s) - z[o + t];
    }

    @Test
    void lossAndGradientMatchTheDefinitionAndFiniteDifferences() {
        Random rnd = new Random(71);
        for (int rows : new int[] {1, 7, 33})
            for (int classes : new int[] {1, 7, 33, 129, 1025, 3000}) {
                float[] z = random(rnd, rows * classes);
                for (int i = 0; i < z.length; i++) z[i] *= 3;
                int[] t = new int[rows];
                for (int r = 0; r < rows; r++) t[r] = rnd.nextInt(classes);
                float[] lse = new float[rows];
                double got = SoftmaxCrossEntropyOp.forward(z, rows, classes, t, lse);
                double[] zd = toDouble(z);
                double want = 0;
                for (int r = 0; r < rows; r++) want += rowLoss(zd, r * classes, classes, t[r]);
                String at = rows + "x" + classes;
                assertEquals(want, got, 2e-5 * Math.abs(want) + 1e-6, at + " loss");

                float scale = 1f / rows;
                float[] dz = z.clone();
                SoftmaxCrossEntropyOp.backward(dz, rows, classes, t, lse, scale);
                double[] exact = new double[z.length];
                for (int r = 0; r < rows; r++) {
                    int o = r * classes;
                    double l = rowLoss(zd, o, classes, t[r]) + zd[o + t[r]];
                    for (int c = 0; c < classes; c++) exact[o + c] = scale * (Math.exp(zd[o + c] - l) - (c == t[r] ? 1 : 0));
                }
                assertClose(at + " dz", exact, dz, 1e-5);
                double[] fd = numeric(zd, v -> {
                    double s = 0;
                    for (int r = 0; r < rows; r++) s += rowLoss(v, r * classes, classes, t[r]);
                    return s * scale;
                }, 40);
                // The sampled entries may all be tiny probabilities; the differences' own error (≈ 1e-16·|L|/h ≈ 5e-9
                // for |L| ≲ 50) is then measured against the gradient's natural scale, |dz| ≤ scale.
                assertClose(at + " dz vs finite differences", fd, dz, 1e-5, scale);
            }
    }
}
