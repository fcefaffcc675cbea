package org.ovis4j.train.ops;

import static org.ovis4j.train.testing.GradCheck.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class RmsNormOpTest {
    private static final float EPS = 1e-6f;
    /** As for LayerNorm: double statistics, float32 rounding of O(1) normalised values. */
    private static final double TOL = 1e-5;

    static double[] naive(double[] x, double[] w, int rows, int dim) {
        double[] out = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += x[r * dim + i] * x[r * dim + i];
            double inv = 1 / Math.sqrt(ss / dim + EPS);
            for (int i = 0; i < dim; i++) out[r * dim + i] = x[r * dim + i] * inv * w[i];
        }
        return out;
    }

    /** Includes an all-zero row, as the padding rows of the text states (its gradient is 1/sqrt(eps)·w·g). */
    @Test
    void forwardAndBackwardMatchNaiveLoopsAndFiniteDifferences() {
        Random rnd = new Random(41);
        for (int rows : SIZES)
            for (int dim : SIZES) {
                String at = rows + "x" + dim;
                float[] x = random(rnd, rows * dim), w = random(rnd, dim), r = random(rnd, rows * dim);
                if (rows > 1) java.util.Arrays.fill(x, (rows - 1) * dim, rows * dim, 0f);
                double[] xd = toDouble(x), wd = toDouble(w);
                float[] out = new float[rows * dim + 3], rstd = new float[rows + 2];
                RmsNormOp.forward(x, 0, rows, dim, w, EPS, out, 3, rstd, 2);
                assertClose("out " + at, naive(xd, wd, rows, dim),
                        java.util.Arrays.copyOfRange(out, 3, out.length), TOL);

                float[] dx = new float[rows * dim], dw = new float[dim];
                RmsNormOp.backward(x, 0, rows, dim, w, rstd, 2, r, 0, dx, 0, dw);
                // dx = rstd·(g − x̂·mean(g·x̂)) cancels almost exactly when dim is 1 (x̂² ≈ 1): its float32 error is
                // relative to the size of the terms, rstd·|dOut·w|.
                double terms = 0;
                for (int i = 0; i < rows * dim; i++) terms = Math.max(terms, rstd[2 + i / dim] * Math.abs(r[i] * w[i % dim]));
                assertClose("dx fd " + at, numeric(xd, v -> dot(naive(v, wd, rows, dim), r), 60), dx, TOL, terms);
                assertClose("dw fd " + at, numeric(wd, v -> dot(naive(xd, v, rows, dim), r), dim), dw, TOL);
                // in place: dx written over dOut, and a frozen weight
                float[] inPlace = r.clone();
                RmsNormOp.backward(x, 0, rows, dim, w, rstd, 2, inPlace, 0, inPlace, 0, null);
                org.junit.jupiter.api.Assertions.assertArrayEquals(dx, inPlace);
            }
    }
}
