package org.ovis4j.core.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

class VectorMathTest {
    @Test
    void expMatchesMathExpOnTheSoftmaxRange() {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        float[] x = new float[lanes], y = new float[lanes];
        double worst = 0;
        for (int i = 0; i <= 870_000; i += lanes) {
            for (int l = 0; l < lanes; l++) x[l] = -(i + l) * 1e-4f;
            VectorMath.expNonPositive(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
            for (int l = 0; l < lanes; l++) {
                double e = Math.exp(x[l]);
                if (x[l] >= -87f) worst = Math.max(worst, Math.abs(y[l] - e) / e);
            }
        }
        // float32 has 2^-24 ≈ 6e-8 relative rounding; a handful of roundings in the reduction and polynomial.
        assertTrue(worst < 5e-7, "worst relative error " + worst);
        x[0] = -100f;
        x[1] = 0f;
        VectorMath.expNonPositive(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, 0)).intoArray(y, 0);
        assertEquals(0f, y[0]);
        assertEquals(1f, y[1]);
    }

    @Test
    void siluArraysMatchTheDoubleFormula() {
        int n = 100_003; // not a multiple of any vector length: the scalar tail is covered too
        float[] x = new float[n], y = new float[n], up = new float[n], out = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (i - n / 2) * 6e-4f;
            up[i] = 1.5f - i % 7 * 0.5f;
        }
        System.arraycopy(x, 0, y, 0, n);
        Activations.silu(y, n);
        Activations.siluMul(x, up, n, out);
        for (int i = 0; i < n; i++) {
            double e = x[i] / (1 + Math.exp(-x[i]));
            // a few float roundings of values of magnitude |x|: relative 5e-7 plus an absolute floor near 0
            assertEquals(e, y[i], 5e-7 * Math.abs(e) + 1e-9, "silu at " + x[i]);
            assertEquals(e * up[i], out[i], 5e-7 * Math.abs(e * up[i]) + 1e-9, "siluMul at " + x[i]);
        }
    }

    @Test
    void sumLanesAddsInLaneOrderEveryTime() {
        // Values whose sum depends on the order of addition: a fixed order is the point.
        java.util.Random r = new java.util.Random(9);
        int n = FloatVector.SPECIES_PREFERRED.length();
        for (int t = 0; t < 1000; t++) {
            float[] lanes = new float[n];
            for (int i = 0; i < n; i++) lanes[i] = (float) ((r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(8)));
            float expected = 0;
            for (float x : lanes) expected += x;
            assertEquals(expected, VectorMath.sumLanes(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, lanes, 0)), 0f);
        }
    }
}
