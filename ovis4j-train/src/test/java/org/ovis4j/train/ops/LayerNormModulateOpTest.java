package org.ovis4j.train.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ovis4j.train.testing.GradCheck.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LayerNormModulateOpTest {
    private static final float EPS = 1e-6f;
    /**
     * Statistics in double, x̂ and the outputs rounded to float32 once or twice: errors of a few ulp of
     * values that are O(1) after normalisation (dim ≤ 129), well below 1e-5 of the largest.
     */
    private static final double TOL = 1e-5;

    /** mod holds [unused | shift | scale] chunks of width dim, to exercise the offsets. */
    static double[] naive(double[] x, double[] mod, int rows, int dim) {
        double[] out = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double mu = 0, var = 0;
            for (int i = 0; i < dim; i++) mu += x[r * dim + i];
            mu /= dim;
            for (int i = 0; i < dim; i++) var += (x[r * dim + i] - mu) * (x[r * dim + i] - mu);
            var /= dim;
            double inv = 1 / Math.sqrt(var + EPS);
            for (int i = 0; i < dim; i++)
                out[r * dim + i] = (x[r * dim + i] - mu) * inv * (1 + mod[2 * dim + i]) + mod[dim + i];
        }
        return out;
    }

    @Test
    void forwardAndBackwardMatchNaiveLoopsAndFiniteDifferences() {
        Random rnd = new Random(31);
        for (int rows : SIZES)
            for (int dim : SIZES) {
                String at = rows + "x" + dim;
                float[] x = random(rnd, rows * dim), mod = random(rnd, 3 * dim), r = random(rnd, rows * dim);
                for (int i = 0; i < mod.length; i++) mod[i] *= 0.5f;
                double[] xd = toDouble(x), md = toDouble(mod);
                float[] out = new float[rows * dim], mean = new float[rows + 1], rstd = new float[rows + 1];
                LayerNormModulateOp.forward(x, 0, rows, dim, EPS, mod, dim, 2 * dim, out, 0, mean, rstd, 1);
                assertClose("out " + at, naive(xd, md, rows, dim), out, TOL);

                float[] dx = new float[rows * dim], dmod = new float[3 * dim];
                LayerNormModulateOp.backward(x, 0, rows, dim, mod, 2 * dim, mean, rstd, 1, r, 0, dx, 0, dmod, dim, 2 * dim);
                assertClose("dx fd " + at, numeric(xd, v -> dot(naive(v, md, rows, dim), r), 60), dx, TOL);
                assertClose("dmod fd " + at, numeric(md, v -> dot(naive(xd, v, rows, dim), r), 3 * dim), dmod, TOL);
            }
    }

    /** dx and the modulation gradients are added to what the buffers hold (the residual gradient). */
    @Test
    void backwardAddsToTheGradientBuffers() {
        Random rnd = new Random(32);
        int rows = 7, dim = 33;
        float[] x = random(rnd, rows * dim), mod = random(rnd, 2 * dim), g = random(rnd, rows * dim);
        float[] out = new float[rows * dim], mean = new float[rows], rstd = new float[rows];
        LayerNormModulateOp.forward(x, 0, rows, dim, EPS, mod, 0, dim, out, 0, mean, rstd, 0);
        float[] dx = new float[rows * dim], dmod = new float[2 * dim];
        LayerNormModulateOp.backward(x, 0, rows, dim, mod, dim, mean, rstd, 0, g, 0, dx, 0, dmod, 0, dim);
        float[] dx2 = random(rnd, rows * dim), dmod2 = random(rnd, 2 * dim), dx20 = dx2.clone(), dmod20 = dmod2.clone();
        LayerNormModulateOp.backward(x, 0, rows, dim, mod, dim, mean, rstd, 0, g, 0, dx2, 0, dmod2, 0, dim);
        for (int i = 0; i < dx.length; i++) assertEquals(dx20[i] + dx[i], dx2[i], 1e-6f);
        for (int i = 0; i < dmod.length; i++) assertEquals(dmod20[i] + dmod[i], dmod2[i], 1e-5f);
    }

    /** The training forward gives the inference kernel's values bit for bit (both compute the statistics alike). */
    @Test
    void forwardEqualsTheInferenceKernel() {
        Random rnd = new Random(33);
        int rows = 33, dim = 129;
        float[] x = random(rnd, rows * dim), mod = random(rnd, 2 * dim);
        float[] out = new float[rows * dim], ref = new float[rows * dim];
        LayerNormModulateOp.forward(x, 0, rows, dim, EPS, mod, 0, dim, out, 0, new float[rows], new float[rows], 0);
        org.ovis4j.core.kernel.Norms.layerNormModulate(x, rows, dim, EPS, mod, 0, mod, dim, ref);
        org.junit.jupiter.api.Assertions.assertArrayEquals(ref, out);
    }
}
