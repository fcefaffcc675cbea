package org.ovis4j.train.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.train.testing.GradCheck;
import org.ovis4j.train.vae.TrainableVae;
import org.ovis4j.train.vae.VaeActivations;

/**
 * The text terms of {@link VaeObjective} (squared error and the L1 of finite-difference edges) against
 * double-precision formulas written out here and their central differences, at odd sizes (a side of 1
 * has no differences in that direction), and the whole objective's seeds on the goldens' tiny VAE.
 */
class VaeObjectiveTest {
    /** mean over channels-last [b, h, w, c] of |Δr − Δx| for the offset (dx, dy), in double. */
    static double edgeReference(double[] r, float[] x, int b, int h, int w, int c, int dx, int dy) {
        double s = 0;
        long n = 0;
        for (int k = 0; k < b; k++)
            for (int y = 0; y + dy < h; y++)
                for (int xx = 0; xx + dx < w; xx++)
                    for (int ch = 0; ch < c; ch++) {
                        int p = ((k * h + y) * w + xx) * c + ch, q = ((k * h + y + dy) * w + xx + dx) * c + ch;
                        s += Math.abs((r[q] - r[p]) - ((double) x[q] - x[p]));
                        n++;
                    }
        return n == 0 ? 0 : s / n;
    }

    static double squaredReference(double[] r, float[] x) {
        double s = 0;
        for (int i = 0; i < r.length; i++) s += (r[i] - x[i]) * (r[i] - x[i]);
        return s / r.length;
    }

    @Test
    void edgeAndSquaredTermsMatchDoubleFormulasAndFiniteDifferences() {
        Random rnd = new Random(7);
        int[][] shapes = {{1, 1, 7, 3}, {1, 7, 1, 3}, {2, 7, 33, 3}, {1, 33, 7, 1}, {1, 1, 1, 3}};
        for (int[] s : shapes) {
            int b = s[0], h = s[1], w = s[2], c = s[3], n = b * h * w * c;
            float[] r = GradCheck.random(rnd, n), x = GradCheck.random(rnd, n);
            double gw = 0.7, l2w = 0.3;
            float[] g = new float[n];
            double ex = VaeObjective.edgeL1(r, x, b, h, w, c, 1, 0, gw, g);
            double ey = VaeObjective.edgeL1(r, x, b, h, w, c, 0, 1, gw, g);
            double sq = VaeObjective.squaredError(r, x, l2w, g);
            double[] rd = GradCheck.toDouble(r);
            String where = java.util.Arrays.toString(s);
            // Sums in double of float32 differences: each term one rounding (2^-24 relative) off the double one.
            assertEquals(edgeReference(rd, x, b, h, w, c, 1, 0), ex, 1e-6 * (1 + ex), "edge x " + where);
            assertEquals(edgeReference(rd, x, b, h, w, c, 0, 1), ey, 1e-6 * (1 + ey), "edge y " + where);
            assertEquals(squaredReference(rd, x), sq, 1e-6 * (1 + sq), "squared " + where);
            double[] num = GradCheck.numeric(rd, v -> gw * (edgeReference(v, x, b, h, w, c, 1, 0) + edgeReference(v, x, b, h, w, c, 0, 1))
                    + l2w * squaredReference(v, x), 400);
            // The analytic seeds are float32 sums of at most 5 terms of size ≤ (2·gw + 2·l2w·|d|)/n: a few
            // float roundings of that; the differences are exact to ~1e-9 (piecewise linear plus a quadratic).
            double scale = (2 * gw + 2 * l2w * 6) / n;
            for (int i = 0; i < n; i++)
                if (!Double.isNaN(num[i])) assertEquals(num[i], g[i], 1e-5 * scale + 1e-9, "d/dr[" + i + "] " + where);
        }
    }

    @Test
    void theObjectiveSeedsAreTheGradientOfItsLossOnTheTinyVae() {
        TrainableVae vae = TrainableVae.load(Path.of("src/test/resources/goldens/ovis_image_tiny"));
        int b = 2, h = 16, w = 24;
        VaeActivations a = vae.newActivations(b, h, w);
        Random rnd = new Random(3);
        float[] image = new float[b * 3 * h * w], eps = GradCheck.random(rnd, b * a.latentChannels() * a.latentHeight() * a.latentWidth());
        for (int i = 0; i < image.length; i++) image[i] = (float) (2 * rnd.nextDouble() - 1);
        VaeObjective.Weights wts = new VaeObjective.Weights(1e-3, 0.5, 0.25);
        VaeObjective.Value v = new VaeObjective(wts).forward(vae, a, image, eps);
        float[] r = a.recon(), x = a.image();
        double[] rd = GradCheck.toDouble(r);
        int n = r.length;
        java.util.function.ToDoubleFunction<double[]> recLoss = q -> {
            double l1 = 0;
            for (int i = 0; i < n; i++) l1 += Math.abs(q[i] - x[i]);
            return l1 / n + wts.l2() * squaredReference(q, x)
                    + wts.gradient() * (edgeReference(q, x, b, h, w, 3, 1, 0) + edgeReference(q, x, b, h, w, 3, 0, 1));
        };
        double klPart = wts.kl() * v.kl();
        assertEquals(recLoss.applyAsDouble(rd) + klPart, v.loss(), 1e-6 * v.loss());
        double[] num = GradCheck.numeric(rd, recLoss, 300);
        float[] seed = a.reconGrad();
        for (int i = 0; i < n; i++)
            if (!Double.isNaN(num[i])) assertEquals(num[i], seed[i], 1e-5 / n + 1e-10, "d loss / d recon[" + i + "]");
    }

    @Test
    void negativeOrInfiniteWeightsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new VaeObjective.Weights(-1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new VaeObjective.Weights(0, Double.POSITIVE_INFINITY, 0));
    }
}
