package org.ovis4j.train.dit;

import org.ovis4j.dit.PositionEmbedding;
import org.ovis4j.train.ops.AttentionOp;
import org.ovis4j.train.ops.RopeOp;

/**
 * The step both block kinds share: RoPE on the normed queries and keys of the joint [text; image]
 * sequence of each sample, then softmax attention of each sample over its own rows (no mask).
 */
final class JointAttention {
    private JointAttention() {}

    /** What attention's backward reads: the rotated queries and keys, the values, the output and the log-sum-exp. */
    static final class Saved {
        float[] q, k, v, out, lse;
    }

    /** The attention output [B·L, D] from normed q, k and v [B·L, D] (joint layout). */
    static float[] forward(Dims d, float[] qn, float[] kn, float[] v, PositionEmbedding pe, Saved saved) {
        int rows = d.rows();
        saved.q = new float[qn.length];
        saved.k = new float[kn.length];
        RopeOp.forward(qn, rows, d.heads(), d.headDim(), pe.cos, pe.sin, d.len(), saved.q);
        RopeOp.forward(kn, rows, d.heads(), d.headDim(), pe.cos, pe.sin, d.len(), saved.k);
        saved.v = v;
        saved.out = new float[rows * d.dim()];
        saved.lse = new float[d.samples() * d.heads() * d.len()];
        AttentionOp.forward(saved.q, saved.k, v, d.samples(), d.len(), d.heads(), d.headDim(), saved.out, saved.lse);
        return saved.out;
    }

    /** The gradients {dq, dk, dv} of the normed queries and keys and of the values, from dOut [B·L, D]. */
    static float[][] backward(Dims d, Saved saved, float[] dOut, PositionEmbedding pe) {
        int n = d.rows() * d.dim();
        float[] dq = new float[n], dk = new float[n], dv = new float[n];
        AttentionOp.backward(saved.q, saved.k, saved.v, saved.out, saved.lse, dOut, d.samples(), d.len(), d.heads(), d.headDim(),
                dq, dk, dv);
        RopeOp.backward(dq, d.rows(), d.heads(), d.headDim(), pe.cos, pe.sin, d.len(), dq);
        RopeOp.backward(dk, d.rows(), d.heads(), d.headDim(), pe.cos, pe.sin, d.len(), dk);
        return new float[][] {dq, dk, dv};
    }
}
