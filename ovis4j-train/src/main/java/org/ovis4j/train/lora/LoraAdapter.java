package org.ovis4j.train.lora;

import java.util.List;
import org.ovis4j.core.OvisException;
import org.ovis4j.train.ops.LinearOp;
import org.ovis4j.train.ops.RowTasks;
import org.ovis4j.train.param.Parameter;

/**
 * The low-rank term of a LoRA-adapted linear layer, with peft's semantics and no dropout (spec 9.2):
 * Δy = scale·B(A x), A [r, in], B [out, r], scale = alpha / r. Evaluated as peft does,
 * (x·Aᵀ)·Bᵀ then times scale, added to the base layer's output. The backward recomputes u = x·Aᵀ
 * instead of keeping it: r/out of the base product's cost, and the adapter stays free of per-pass state.
 */
public final class LoraAdapter {
    private final Parameter a, b;
    private final int rank, in, out;
    private final float scale;

    public LoraAdapter(Parameter a, Parameter b, float scale) {
        long[] sa = a.shape(), sb = b.shape();
        if (sa.length != 2 || sb.length != 2 || sa[0] != sb[1])
            throw new OvisException("LoRA: " + a.name() + " " + java.util.Arrays.toString(sa) + " and " + b.name() + " "
                    + java.util.Arrays.toString(sb) + " are not [r, in] and [out, r]");
        this.a = a;
        this.b = b;
        this.rank = Math.toIntExact(sa[0]);
        this.in = Math.toIntExact(sa[1]);
        this.out = Math.toIntExact(sb[0]);
        this.scale = scale;
    }

    public int rank() { return rank; }
    public int in() { return in; }
    public int out() { return out; }
    public float scale() { return scale; }

    /** A then B. */
    public List<Parameter> parameters() {
        return List.of(a, b);
    }

    /** y[yOff + r·ldy + o] += scale·(B(A x_r))[o] for r in [0, rows). */
    public void addForward(float[] x, int xOff, int ldx, int rows, float[] y, int yOff, int ldy) {
        float[] u = new float[rows * rank], t = new float[rows * out];
        LinearOp.forward(x, xOff, ldx, rows, a.value(), null, in, rank, u, 0, rank);
        LinearOp.forward(u, 0, rank, rows, b.value(), null, rank, out, t, 0, out);
        RowTasks.forEach(rows, out, r -> {
            int o = yOff + r * ldy, p = r * out;
            for (int j = 0; j < out; j++) y[o + j] += t[p + j] * scale;
        });
    }

    /**
     * Adds d loss / d A and d loss / d B (when trainable) and, unless dx is null, adds this term's part of
     * d loss / d x into dx: with dt = scale·dY and u = x·Aᵀ, dB = dtᵀ·u, du = dt·B, dA = duᵀ·x, dX = du·A.
     */
    public void backward(float[] x, int xOff, int ldx, int rows, float[] dy, int dyOff, int lddy,
                         float[] dx, int dxOff, int lddx) {
        float[] u = new float[rows * rank], dt = new float[rows * out], du = new float[rows * rank];
        LinearOp.forward(x, xOff, ldx, rows, a.value(), null, in, rank, u, 0, rank);
        RowTasks.forEach(rows, out, r -> {
            int o = dyOff + r * lddy, p = r * out;
            for (int j = 0; j < out; j++) dt[p + j] = dy[o + j] * scale;
        });
        LinearOp.backward(u, 0, rank, rows, b.value(), rank, out, dt, 0, out, du, 0, rank, false, b.grad(), null);
        LinearOp.backward(x, xOff, ldx, rows, a.value(), in, rank, du, 0, rank, dx, dxOff, lddx, true, a.grad(), null);
    }
}
