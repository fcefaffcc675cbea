package org.ovis4j.train.ops;

import jdk.incubator.vector.FloatVector;
import org.ovis4j.core.kernel.VectorMath;

/**
 * SwiGLU on the output of one projection whose rows are [up (hidden) | gate (hidden)] (diffusers
 * ff.net.0.proj and proj_mlp): m = up ⊙ silu(gate). The backward reads the saved projection output:
 * dUp = dm·silu(gate), dGate = dm·up·silu'(gate).
 */
public final class SwiGluOp {
    private static final int L = SiluOp.S.length();

    private SwiGluOp() {}

    /** out[outOff + r·ldo + i] = h[hOff + r·ldh + i]·silu(h[hOff + r·ldh + hidden + i]) for i in [0, hidden). */
    public static void forward(float[] h, int hOff, int ldh, int rows, int hidden, float[] out, int outOff, int ldo) {
        RowTasks.forEach(rows, hidden, r -> {
            int u = hOff + r * ldh, g = u + hidden, o = outOff + r * ldo;
            int i = 0;
            for (; i + L <= hidden; i += L) {
                FloatVector gv = FloatVector.fromArray(SiluOp.S, h, g + i);
                gv.mul(VectorMath.sigmoid(gv)).mul(FloatVector.fromArray(SiluOp.S, h, u + i)).intoArray(out, o + i);
            }
            for (; i < hidden; i++) out[o + i] = h[u + i] * (h[g + i] * SiluOp.sigmoid(h[g + i]));
        });
    }

    /** Writes both halves of dh [rows, 2·hidden] (from dhOff, stride lddh) from dm (from dmOff, stride lddm). */
    public static void backward(float[] h, int hOff, int ldh, int rows, int hidden, float[] dm, int dmOff, int lddm,
                                float[] dh, int dhOff, int lddh) {
        RowTasks.forEach(rows, hidden, r -> {
            int u = hOff + r * ldh, g = u + hidden, m = dmOff + r * lddm, du = dhOff + r * lddh, dg = du + hidden;
            int i = 0;
            for (; i + L <= hidden; i += L) {
                FloatVector gv = FloatVector.fromArray(SiluOp.S, h, g + i);
                FloatVector s = VectorMath.sigmoid(gv);
                FloatVector dmv = FloatVector.fromArray(SiluOp.S, dm, m + i);
                dmv.mul(gv.mul(s)).intoArray(dh, du + i);
                FloatVector d = s.mul(gv.mul(s.neg().add(1f)).add(1f));
                dmv.mul(FloatVector.fromArray(SiluOp.S, h, u + i)).mul(d).intoArray(dh, dg + i);
            }
            for (; i < hidden; i++) {
                float gi = h[g + i], s = SiluOp.sigmoid(gi);
                dh[du + i] = dm[m + i] * (gi * s);
                dh[dg + i] = dm[m + i] * h[u + i] * SiluOp.derivative(gi);
            }
        });
    }
}
