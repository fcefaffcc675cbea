package org.ovis4j.train.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ovis4j.train.ops.VaeOpsTesting.assertClose;
import static org.ovis4j.train.ops.VaeOpsTesting.assertFiniteDifferences;
import static org.ovis4j.train.ops.VaeOpsTesting.dot;
import static org.ovis4j.train.ops.VaeOpsTesting.gaussian;
import static org.ovis4j.train.ops.VaeOpsTesting.toDouble;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * UpsampleNearestOp and DiagonalGaussianOp against naive double versions and central differences.
 * Upsampling copies exactly and its backward adds four floats (tolerance 1e-6 of the scale: two
 * roundings); the posterior is a float32 exp and one multiply-add per element (2e-6: the float
 * exp and products are a few ulp).
 */
class UpsampleAndPosteriorOpTest {
    static double[] upsample(double[] x, int batch, int h, int w, int c) {
        double[] y = new double[x.length * 4];
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < 2 * h; oy++)
                for (int ox = 0; ox < 2 * w; ox++)
                    for (int ch = 0; ch < c; ch++)
                        y[((b * 2 * h + oy) * 2 * w + ox) * c + ch] = x[((b * h + oy / 2) * w + ox / 2) * c + ch];
        return y;
    }

    @Test
    void upsampleOddSizes() {
        Random r = new Random(1);
        int[][] cases = {{1, 1, 1, 1}, {2, 7, 5, 3}, {1, 33, 1, 7}, {3, 4, 6, 129}};
        for (int[] s : cases) {
            int batch = s[0], h = s[1], w = s[2], c = s[3];
            float[] x = gaussian(r, batch * h * w * c, 1), dy = gaussian(r, x.length * 4, 1);
            float[] y = new float[dy.length];
            UpsampleNearestOp.forward(x, batch, h, w, c, y);
            double[] xd = toDouble(x), dyd = toDouble(dy);
            double[] ref = upsample(xd, batch, h, w, c);
            for (int i = 0; i < ref.length; i++) assertEquals(ref[i], y[i], 0.0, "y[" + i + "]");
            float[] dx = new float[x.length];
            UpsampleNearestOp.backward(dy, batch, h, w, c, dx);
            double[] dxRef = new double[x.length];
            for (int b = 0; b < batch; b++)
                for (int oy = 0; oy < 2 * h; oy++)
                    for (int ox = 0; ox < 2 * w; ox++)
                        for (int ch = 0; ch < c; ch++)
                            dxRef[((b * h + oy / 2) * w + ox / 2) * c + ch] += dyd[((b * 2 * h + oy) * 2 * w + ox) * c + ch];
            assertClose("upsample dx " + java.util.Arrays.toString(s), dxRef, dx, 1e-6);
            assertFiniteDifferences("upsample fd dx", xd, xs -> dot(upsample(xs, batch, h, w, c), dyd), dx, 30, r, 1e-6);
        }
    }

    /** z = mean + exp(clamp(lv)/2)·ε and, with weights, Σ gz·z + Σ gm·mean + Σ gl·logvar (the loss's other terms). */
    static double objective(double[] m, int rows, int l, double[] eps, double[] gz, double[] gm, double[] gl) {
        double s = 0;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < l; c++) {
                int i = r * l + c;
                double mean = m[r * 2 * l + c], lv = Math.clamp(m[r * 2 * l + l + c], -30, 20);
                s += gz[i] * (mean + Math.exp(0.5 * lv) * eps[i]) + gm[i] * mean + gl[i] * lv;
            }
        return s;
    }

    @Test
    void posteriorWithTheClampActiveAndNot() {
        Random r = new Random(2);
        for (int[] s : new int[][] {{1, 1}, {7, 3}, {33, 16}, {129, 1}}) {
            int rows = s[0], l = s[1];
            float[] moments = gaussian(r, rows * 2 * l, 1.5);
            // Some log-variances beyond either bound: their gradient must vanish.
            for (int i = 0; i < rows; i += 3) moments[i * 2 * l + l] = i % 2 == 0 ? -31.5f : 20.5f;
            float[] eps = gaussian(r, rows * l, 1), dz = gaussian(r, rows * l, 1);
            float[] gm = gaussian(r, rows * l, 0.1), gl = gaussian(r, rows * l, 0.1);
            float[] mean = new float[rows * l], lv = new float[rows * l], std = new float[rows * l], z = new float[rows * l];
            DiagonalGaussianOp.forward(moments, rows, l, eps, mean, lv, std, z);
            double[] zRef = new double[rows * l], stdRef = new double[rows * l];
            for (int row = 0; row < rows; row++)
                for (int c = 0; c < l; c++) {
                    double v = Math.clamp(moments[row * 2 * l + l + c], -30.0, 20.0);
                    stdRef[row * l + c] = Math.exp(0.5 * v);
                    zRef[row * l + c] = moments[row * 2 * l + c] + stdRef[row * l + c] * eps[row * l + c];
                    assertEquals(v, lv[row * l + c], 0.0);
                    assertEquals(moments[row * 2 * l + c], mean[row * l + c], 0.0);
                }
            assertClose("std", stdRef, std, 2e-6);
            assertClose("z", zRef, z, 2e-6);

            float[] dMean = gm.clone(), dLogvar = gl.clone(), dMoments = new float[moments.length];
            DiagonalGaussianOp.backward(moments, rows, l, std, eps, dz, dMean, dLogvar, dMoments);
            double[] md = toDouble(moments), ed = toDouble(eps), dzd = toDouble(dz), gmd = toDouble(gm), gld = toDouble(gl);
            double[] ref = new double[moments.length];
            for (int row = 0; row < rows; row++)
                for (int c = 0; c < l; c++) {
                    int i = row * l + c;
                    double raw = md[row * 2 * l + l + c];
                    ref[row * 2 * l + c] = dzd[i] + gmd[i];
                    ref[row * 2 * l + l + c] = raw < -30 || raw > 20 ? 0 : dzd[i] * ed[i] * 0.5 * stdRef[i] + gld[i];
                    if (raw < -30 || raw > 20) assertEquals(0f, dMoments[row * 2 * l + l + c], "clamped logvar gradient");
                }
            assertClose("dMoments", ref, dMoments, 2e-6);
            // Central differences away from the clamp bounds (the objective is not differentiable there).
            assertFiniteDifferences("fd dMoments", md, ms -> objective(ms, rows, l, ed, dzd, gmd, gld), dMoments, 40, r, 1e-5);
        }
    }
}
