package org.ovis4j.core.kernel;

import org.ovis4j.core.parallel.Parallel;

/** Element-wise activations and gated residual updates. */
public final class Activations {
    private Activations() {}

    public static float silu(float x) {
        return (float) (x / (1.0 + Math.exp(-x)));
    }

    /** x[i] = silu(x[i]) for i < n. */
    public static void silu(float[] x, int n) {
        int chunk = 1 << 14;
        Parallel.forEach((n + chunk - 1) / chunk, t -> {
            for (int i = t * chunk, e = Math.min(n, i + chunk); i < e; i++) x[i] = silu(x[i]);
        });
    }

    /** A fresh array silu(x[0..n)). */
    public static float[] siluCopy(float[] x) {
        float[] y = x.clone();
        for (int i = 0; i < y.length; i++) y[i] = silu(y[i]);
        return y;
    }

    /**
     * SwiGLU over rows of width 2·hidden laid out [up | gate]: out[r, i] = up·silu(gate), written to
     * out at row stride ldo, column offset outOff.
     */
    public static void swiglu(float[] in, int rows, int hidden, float[] out, int ldo, int outOff) {
        Parallel.forEach(rows, r -> {
            int src = r * 2 * hidden, dst = r * ldo + outOff;
            for (int i = 0; i < hidden; i++) out[dst + i] = in[src + i] * silu(in[src + hidden + i]);
        });
    }

    /** SwiGLU with gate and up in separate arrays (Qwen3 MLP): out = silu(gate)·up. */
    public static void siluMul(float[] gate, float[] up, int n, float[] out) {
        for (int i = 0; i < n; i++) out[i] = silu(gate[i]) * up[i];
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
