package org.ovis4j.train.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;

/** The Diffusion-DPO objective on its own: its gradient against central differences, its stability at large logits. */
class DiffusionDpoTest {
    /** loss as a function of the policy's prediction, everything in double from the float inputs. */
    private static double loss(float[] pred, float[] ref, float[] target, int pairs, double beta) {
        double[] err = DiffusionDpo.rowErrors(pred, target, 2 * pairs), refErr = DiffusionDpo.rowErrors(ref, target, 2 * pairs);
        return DiffusionDpo.loss(DiffusionDpo.logits(err, refErr, pairs, beta));
    }

    @Test
    void predictionGradientMatchesCentralDifferences() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int pairs : new int[] {1, 3}) {
            for (int per : new int[] {1, 7, 33}) {
                int n = 2 * pairs * per;
                float[] pred = new float[n], ref = new float[n], target = new float[n];
                for (int i = 0; i < n; i++) {
                    target[i] = (float) rnd.nextGaussian();
                    pred[i] = target[i] + (float) rnd.nextGaussian();
                    ref[i] = pred[i] + 0.05f * (float) rnd.nextGaussian();
                }
                double beta = 20; // logits of order one: both branches of the sigmoid are exercised
                double[] z = DiffusionDpo.logits(DiffusionDpo.rowErrors(pred, target, 2 * pairs),
                        DiffusionDpo.rowErrors(ref, target, 2 * pairs), pairs, beta);
                float[] g = DiffusionDpo.predictionGradient(pred, target, z, pairs, beta);
                for (int i = 0; i < n; i++) {
                    float keep = pred[i];
                    float up = keep + 1e-4f, down = keep - 1e-4f; // the true step, (double) up − down, divides
                    pred[i] = up;
                    double lu = loss(pred, ref, target, pairs, beta);
                    pred[i] = down;
                    double ld = loss(pred, ref, target, pairs, beta);
                    pred[i] = keep;
                    double fd = (lu - ld) / ((double) up - down);
                    assertEquals(fd, g[i], 1e-5 * (1 + Math.abs(fd)), "pairs " + pairs + ", " + per + " per row, element " + i);
                }
            }
        }
    }

    @Test
    void lossIsStableForLargeLogits() {
        // −log σ(z): ≈ −z for z ≪ 0, ≈ e^(−z) for z ≫ 0; the naive log(1 + exp(−z)) overflows or rounds to 0
        assertEquals(1000, DiffusionDpo.loss(new double[] {-1000}), 0);
        assertEquals(Math.exp(-50), DiffusionDpo.loss(new double[] {50}), 1e-15 * Math.exp(-50));
        assertEquals(Math.log(2), DiffusionDpo.loss(new double[] {0}), 0);
        assertEquals(1, DiffusionDpo.sigmoid(1000), 0);
        assertEquals(0, DiffusionDpo.sigmoid(-1000), 0);
        assertTrue(DiffusionDpo.sigmoid(-745) > 0);
    }

    @Test
    void badSettingsAreOneLineErrors() {
        assertEquals("Diffusion-DPO: beta must be positive, got 0.0",
                assertThrows(OvisException.class, () -> new DiffusionDpo(0)).getMessage());
        assertThrows(OvisException.class, () -> new DiffusionDpo.Pairs(2, 1, 1, new float[4], new float[2], new float[4],
                new float[2], new float[2], new float[3], new float[3]));
    }
}
