package org.ovis4j.train.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.kernel.VectorMath;
import org.ovis4j.core.parallel.Parallel;

/**
 * SiLU, y = x·σ(x), and its backward dx = dy·σ(x)·(1 + x·(1 − σ(x))). Out of place. σ is the
 * inference kernels' sigmoid ({@link VectorMath#sigmoid}, the same bits in interpreted and compiled
 * code), its scalar twin for the tail of a row.
 */
public final class SiluOp {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNK = 1 << 14;

    private SiluOp() {}

    /** σ(x) from e^−|x| (never overflows), as {@code Activations.silu} computes it. */
    static float sigmoid(float x) {
        float e = (float) Math.exp(-Math.abs(x));
        return x >= 0 ? 1f / (1f + e) : e / (1f + e);
    }

    /** out[outOff + i] = silu(x[xOff + i]) for i in [0, n). */
    public static void forward(float[] x, int xOff, int n, float[] out, int outOff) {
        Parallel.forEach((n + CHUNK - 1) / CHUNK, t -> {
            int i = t * CHUNK, e = Math.min(n, i + CHUNK);
            for (; i + S.length() <= e; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i);
                v.mul(VectorMath.sigmoid(v)).intoArray(out, outOff + i);
            }
            for (; i < e; i++) out[outOff + i] = x[xOff + i] * sigmoid(x[xOff + i]);
        });
    }

    /** dx[dxOff + i] = dOut[doutOff + i]·silu'(x[xOff + i]); dx may be dOut. */
    public static void backward(float[] x, int xOff, int n, float[] dout, int doutOff, float[] dx, int dxOff) {
        Parallel.forEach((n + CHUNK - 1) / CHUNK, t -> {
            int i = t * CHUNK, e = Math.min(n, i + CHUNK);
            for (; i + S.length() <= e; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i);
                FloatVector.fromArray(S, dout, doutOff + i).mul(derivative(v)).intoArray(dx, dxOff + i);
            }
            for (; i < e; i++) dx[dxOff + i] = dout[doutOff + i] * derivative(x[xOff + i]);
        });
    }

    /** silu'(x) = σ(x)·(1 + x·(1 − σ(x))), lane by lane; the same bits as the scalar form. */
    static FloatVector derivative(FloatVector x) {
        FloatVector s = VectorMath.sigmoid(x);
        return s.mul(x.mul(s.neg().add(1f)).add(1f));
    }

    /** silu'(x) = σ(x)·(1 + x·(1 − σ(x))). */
    static float derivative(float x) {
        float s = sigmoid(x);
        return s * (1f + x * (1f - s));
    }
}
