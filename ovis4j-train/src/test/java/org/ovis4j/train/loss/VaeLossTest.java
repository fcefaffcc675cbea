package org.ovis4j.train.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ovis4j.train.ops.VaeOpsTesting.assertFiniteDifferences;
import static org.ovis4j.train.ops.VaeOpsTesting.gaussian;
import static org.ovis4j.train.ops.VaeOpsTesting.toDouble;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The L1 and KL parts of {@link VaeLoss} against double formulas and central differences. */
class VaeLossTest {
    @Test
    void l1GradientIsTheSignOverNAndZeroOnTies() {
        Random r = new Random(1);
        int n = 129;
        float[] recon = gaussian(r, n, 1), target = gaussian(r, n, 1);
        for (int i = 0; i < n; i += 5) target[i] = recon[i]; // exact ties: torch.sign(0) = 0
        float[] dr = new float[n], dt = new float[n];
        double loss = VaeLoss.l1(recon, target, dr, dt);
        double ref = 0;
        for (int i = 0; i < n; i++) ref += Math.abs((double) recon[i] - target[i]);
        // Differences are taken in float32 as torch does: each |d| is one rounding (2^-24) off the double one.
        assertEquals(ref / n, loss, 1e-7 * ref / n);
        for (int i = 0; i < n; i++) {
            double expected = i % 5 == 0 ? 0 : Math.signum(recon[i] - target[i]) / (double) n;
            assertEquals(expected, dr[i], 1e-9, "dRecon[" + i + "]");
            assertEquals(-expected, dt[i], 1e-9, "dTarget[" + i + "]");
        }
    }

    static double klObjective(double[] mean, double[] logvar, int batch, int per, double w) {
        double term = 0;
        for (int b = 0; b < batch; b++) {
            double s = 0;
            for (int i = b * per; i < (b + 1) * per; i++) s += mean[i] * mean[i] + Math.exp(logvar[i]) - 1 - logvar[i];
            term += 0.5 * s / per;
        }
        return w * term / batch;
    }

    @Test
    void klValueAndGradients() {
        Random r = new Random(2);
        for (int[] c : new int[][] {{1, 1}, {2, 7}, {3, 33}}) {
            int batch = c[0], per = c[1], n = batch * per;
            float[] mean = gaussian(r, n, 1), logvar = gaussian(r, n, 1.5);
            float[] dm = new float[n], dl = new float[n];
            double w = 1e-3;
            double[] kl = VaeLoss.kl(mean, logvar, batch, per, w, dm, dl);
            double[] md = toDouble(mean), ld = toDouble(logvar);
            for (int b = 0; b < batch; b++) {
                double s = 0;
                for (int i = b * per; i < (b + 1) * per; i++) s += md[i] * md[i] + Math.exp(ld[i]) - 1 - ld[i];
                assertEquals(0.5 * s, kl[b], 1e-6 * Math.abs(0.5 * s), "kl[" + b + "]");
            }
            // float32 exp and products: a few ulp of the gradients' scale.
            assertFiniteDifferences("d mean", md, ms -> klObjective(ms, ld, batch, per, w), dm, 40, r, 1e-6);
            assertFiniteDifferences("d logvar", ld, ls -> klObjective(md, ls, batch, per, w), dl, 40, r, 1e-6);
        }
    }
}
