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
}
