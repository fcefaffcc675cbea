package org.ovis4j.dit;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.kernel.Attention;
import org.ovis4j.core.kernel.Linear;
import org.ovis4j.core.kernel.Norms;
import org.ovis4j.core.kernel.Rope;

/**
 * Query/key/value projections with per-head RMSNorm for one token stream, and the shared step that
 * rotates the concatenated [text; image] queries and keys and attends over all of them (no mask).
 */
final class JointAttention {
    final Linear q, k, v;
    final float[] normQ, normK;

    JointAttention(Weights w, String prefix, String qName, String kName, String vName, String nq, String nk) {
        q = new Linear(w.get(prefix + qName + ".weight"), w.get(prefix + qName + ".bias"));
        k = new Linear(w.get(prefix + kName + ".weight"), w.get(prefix + kName + ".bias"));
        v = new Linear(w.get(prefix + vName + ".weight"), w.get(prefix + vName + ".bias"));
        normQ = w.get(prefix + nq + ".weight").toFloats();
        normK = w.get(prefix + nk + ".weight").toFloats();
    }

    /** Projects rows [x, x + rows) of normed input into rows starting at {@code row} of the Q/K/V buffers. */
    void project(float[] in, int rows, Buffers b, int row, int headDim) {
        int d = b.dim;
        q.forward(in, 0, rows, b.q, row * d);
        k.forward(in, 0, rows, b.k, row * d);
        v.forward(in, 0, rows, b.v, row * d);
        Norms.rmsNorm(b.q, row * d, rows * (d / headDim), headDim, normQ, TransformerConfig.EPS, b.q);
        Norms.rmsNorm(b.k, row * d, rows * (d / headDim), headDim, normK, TransformerConfig.EPS, b.k);
    }

    /** RoPE on all L rows of Q and K, then softmax attention into {@code out} (row stride ldo). */
    static void attend(Buffers b, PositionEmbedding pe, int heads, int headDim, float[] out, int ldo) {
        Rope.applyInterleaved(b.q, b.rows, heads, headDim, pe.cos, pe.sin);
        Rope.applyInterleaved(b.k, b.rows, heads, headDim, pe.cos, pe.sin);
        int d = b.dim;
        Attention.attend(b.q, d, b.k, d, b.v, d, out, ldo, b.rows, b.rows, heads, heads, headDim,
                (float) (1.0 / Math.sqrt(headDim)), false, b.rows);
    }

    /** Q, K, V for the L = text + image rows of one forward pass, reused by every block. */
    static final class Buffers {
        final float[] q, k, v;
        final int rows, dim;

        Buffers(int rows, int dim) {
            this.rows = rows;
            this.dim = dim;
            q = new float[rows * dim];
            k = new float[rows * dim];
            v = new float[rows * dim];
        }
    }
}
