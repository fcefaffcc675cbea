package org.ovis4j.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementary functions on float vectors built from IEEE add, multiply and fma only. The Vector API's
 * own EXP gives different last bits in interpreted and compiled code, so the same input could change
 * an image between the first and the second run of a model; these give the same bits everywhere.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final float LOG2E = 1.44269504f;
    private static final float LN2_HI = 0.693145751953125f, LN2_LO = 1.42860682030941723212e-6f;
    /** 1.5 · 2^23: adding it rounds to the nearest integer, which then sits in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = 0x4B400000;

    private VectorMath() {}

    /**
     * e^x for x ≤ 0 (softmax after subtracting the max), to about 2 ulp; inputs below −87 give
     * values below 2^−126 that are flushed to 0.
     */
    public static FloatVector expNonPositive(FloatVector x) {
        FloatVector clamped = x.max(-87f);
        FloatVector big = clamped.mul(LOG2E).add(ROUNDER);
        FloatVector n = big.sub(ROUNDER);
        IntVector ni = big.reinterpretAsInts().sub(ROUNDER_BITS);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), clamped);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        // Taylor series of e^r on |r| ≤ ln2/2, degree 6: truncation error below 2e-8 relative.
        FloatVector p = r.fma(FloatVector.broadcast(S, 1f / 720), FloatVector.broadcast(S, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(S, 0.5f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        FloatVector scale = ni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale).blend(0f, x.compare(VectorOperators.LT, -87f));
    }

    /**
     * The sum of the lanes, always added in lane order. {@code reduceLanes(ADD)} adds in a different
     * order when compiled than when interpreted, so a softmax normaliser could change with JIT timing
     * (seen: two runs of the same generation giving different pixels).
     */
    public static float sumLanes(FloatVector v) {
        float[] lanes = v.toArray();
        float s = 0;
        for (float x : lanes) s += x;
        return s;
    }

    /** 1 / (1 + e^−x), from e^−|x| so that the exponential never overflows. */
    public static FloatVector sigmoid(FloatVector x) {
        FloatVector e = expNonPositive(x.abs().neg());
        FloatVector onePlus = e.add(1f);
        return FloatVector.broadcast(S, 1f).div(onePlus).blend(e.div(onePlus), x.compare(VectorOperators.LT, 0f));
    }
}
