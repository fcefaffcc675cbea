package org.ovis4j.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import org.ovis4j.core.parallel.Parallel;

/** Element-wise activations and gated residual updates. */
public final class Activations {
    private Activations() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHUNK = 1 << 14;

    /** x·sigmoid(x), with the same sigmoid as the vector paths so that every element agrees. */
    public static float silu(float x) {
        float e = (float) Math.exp(-Math.abs(x));
        return x * (x >= 0 ? 1f / (1f + e) : e / (1f + e));
    }

    /** x[i] = silu(x[i]) for i in [0, n). */
    public static void silu(float[] x, int n) {
        Parallel.forEach((n + CHUNK - 1) / CHUNK, t -> {
            int i = t * CHUNK, e = Math.min(n, i + CHUNK);
            for (; i + S.length() <= e; i += S.length()) {
                FloatVector v = FloatVector.fromArray(S, x, i);
                v.mul(VectorMath.sigmoid(v)).intoArray(x, i);
            }
            for (; i < e; i++) x[i] = silu(x[i]);
        });
    }

    /** A fresh array silu(x[0..n)). */
    public static float[] siluCopy(float[] x) {
        float[] y = x.clone();
        silu(y, y.length);
        return y;
    }

    /** out[oOff + i] = up[uOff + i] · silu(gate[gOff + i]) for i in [0, n): the gated half of SwiGLU. */
    public static void siluTimes(float[] gate, int gOff, float[] up, int uOff, float[] out, int oOff, int n) {
        int i = 0;
        for (; i + S.length() <= n; i += S.length()) {
            FloatVector g = FloatVector.fromArray(S, gate, gOff + i);
            g.mul(VectorMath.sigmoid(g)).mul(FloatVector.fromArray(S, up, uOff + i)).intoArray(out, oOff + i);
        }
        for (; i < n; i++) out[oOff + i] = up[uOff + i] * silu(gate[gOff + i]);
    }

    /** SwiGLU in place over rows: up[r·ldu + off + i] ·= silu(gate[r·hidden + i]) for i in [0, hidden). */
    public static void siluGateRows(float[] gate, int rows, int hidden, float[] up, int ldu, int off) {
        Parallel.forEach(rows, r -> siluTimes(gate, r * hidden, up, r * ldu + off, up, r * ldu + off, hidden));
    }

    /** SwiGLU with gate and up in separate arrays (Qwen3 MLP): out = silu(gate)·up. */
    public static void siluMul(float[] gate, float[] up, int n, float[] out) {
        Parallel.forEach((n + CHUNK - 1) / CHUNK, t -> {
            int i = t * CHUNK;
            siluTimes(gate, i, up, i, out, i, Math.min(CHUNK, n - i));
        });
    }

    /** x[r, i] += gate[gOff + i] · y[r, i] over rows of width dim. */
    public static void gatedAdd(float[] x, float[] y, int rows, int dim, float[] gate, int gOff) {
        gatedAdd(x, 0, y, rows, dim, gate, gOff);
    }

    public static void gatedAdd(float[] x, int xOff, float[] y, int rows, int dim, float[] gate, int gOff) {
        gatedAdd(x, xOff, y, 0, rows, dim, gate, gOff);
    }

    /** x[xOff + r·dim + i] += gate[gOff + i] · y[yOff + r·dim + i]. */
    public static void gatedAdd(float[] x, int xOff, float[] y, int yOff, int rows, int dim, float[] gate, int gOff) {
        Parallel.forEach(rows, r -> {
            int o = xOff + r * dim, p = yOff + r * dim;
            for (int i = 0; i < dim; i++) x[o + i] += gate[gOff + i] * y[p + i];
        });
    }
}
