package org.ovis4j.dit;

import org.ovis4j.checkpoint.Projections;
import org.ovis4j.core.kernel.AttentionKernel;
import org.ovis4j.core.kernel.Projection;
import org.ovis4j.core.kernel.Norms;
import org.ovis4j.core.kernel.Rope;

/**
 * Query/key/value projections with per-head RMSNorm for one token stream, and the shared step that
 * rotates the concatenated [text; image] queries and keys and attends over all of them (no mask).
 */
final class JointAttention {
    final Projection q, k, v;
    final float[] normQ, normK;

    JointAttention(Projections m, String prefix, String qName, String kName, String vName, String nq, String nk, int headDim) {
        q = m.of(prefix + qName);
        k = m.of(prefix + kName);
        v = m.of(prefix + vName);
        normQ = m.weights().get(prefix + nq + ".weight").expectShape(headDim).toFloats();
        normK = m.weights().get(prefix + nk + ".weight").expectShape(headDim).toFloats();
    }

    /** Projects {@code rows} rows of normed input into rows starting at {@code row} of the Q/K/V buffers. */
    void project(float[] in, int rows, BlockBuffers b, int row, int headDim) {
        int d = b.dim;
        q.forward(in, 0, rows, b.q, row * d);
        k.forward(in, 0, rows, b.k, row * d);
        v.forward(in, 0, rows, b.v, row * d);
        Norms.rmsNorm(b.q, row * d, rows * (d / headDim), headDim, normQ, TransformerConfig.EPS, b.q);
        Norms.rmsNorm(b.k, row * d, rows * (d / headDim), headDim, normK, TransformerConfig.EPS, b.k);
    }

    /**
     * Projects {@code samples} stacked blocks of {@code n} rows of one stream (text or image of each
     * sample, starting at element inOff) in one multiply per matrix, then places block s at rows
     * s·L + rowInSample of the buffers.
     */
    void projectSamples(float[] in, int inOff, int n, BlockBuffers b, int rowInSample, int headDim) {
        int d = b.dim, all = b.samples * n;
        Projection[] matrices = {q, k, v};
        float[][] norms = {normQ, normK, null};
        float[][] dst = {b.q, b.k, b.v};
        for (int m = 0; m < 3; m++) {
            matrices[m].forward(in, inOff, all, b.staging, 0);
            if (norms[m] != null)
                Norms.rmsNorm(b.staging, 0, all * (d / headDim), headDim, norms[m], TransformerConfig.EPS, b.staging);
            for (int s = 0; s < b.samples; s++)
                System.arraycopy(b.staging, s * n * d, dst[m], (s * b.perSample + rowInSample) * d, n * d);
        }
    }

    /**
     * RoPE on every row of Q and K (pe holds the [text; image] table once per sample), then softmax
     * attention of each sample over its own rows into {@code out} (row stride ldo). No mask.
     */
    static void attend(AttentionKernel kernel, BlockBuffers b, PositionEmbedding pe, int heads, int headDim, float[] out, int ldo) {
        Rope.applyInterleaved(b.q, b.rows, heads, headDim, pe.cos, pe.sin);
        Rope.applyInterleaved(b.k, b.rows, heads, headDim, pe.cos, pe.sin);
        int d = b.dim, l = b.perSample;
        for (int s = 0; s < b.samples; s++)
            kernel.attend(b.q, s * l * d, d, b.k, s * l * d, d, b.v, s * l * d, d, out, s * l * ldo, ldo,
                    l, l, heads, heads, headDim, (float) (1.0 / Math.sqrt(headDim)), false, l);
    }
}
