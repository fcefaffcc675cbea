package org.ovis4j.train.dit;

import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.train.ops.GatedResidualOp;
import org.ovis4j.train.ops.LayerNormModulateOp;

/**
 * The AdaLN steps of the blocks applied per sample: rows of sample s use chunks of its own
 * modulation vector (mod [B, chunks·D], one row per sample, chunk c at columns c·D ...), since every
 * sample of a training batch has its own σ.
 */
final class Modulated {
    private Modulated() {}

    /** out = LN(x)·(1 + scale) + shift over n rows per sample of x [B·n, D]; saves mean, rstd [B·n]. */
    static void layerNorm(Dims d, float[] x, int n, float[] mod, int chunks, int shiftChunk, int scaleChunk,
                          float[] out, float[] mean, float[] rstd) {
        int w = d.dim();
        for (int s = 0; s < d.samples(); s++)
            LayerNormModulateOp.forward(x, s * n * w, n, w, TransformerConfig.EPS, mod, (s * chunks + shiftChunk) * w,
                    (s * chunks + scaleChunk) * w, out, s * n * w, mean, rstd, s * n);
    }

    /** Adds LN's input gradient into dx and the shift and scale gradients into dmod (same layout as mod). */
    static void layerNormBackward(Dims d, float[] x, int n, float[] mod, int chunks, int shiftChunk, int scaleChunk,
                                  float[] mean, float[] rstd, float[] dout, float[] dx, float[] dmod) {
        int w = d.dim();
        for (int s = 0; s < d.samples(); s++)
            LayerNormModulateOp.backward(x, s * n * w, n, w, mod, (s * chunks + scaleChunk) * w, mean, rstd, s * n,
                    dout, s * n * w, dx, s * n * w, dmod, (s * chunks + shiftChunk) * w, (s * chunks + scaleChunk) * w);
    }

    /** A new array res + gate ⊙ y, n rows per sample. */
    static float[] gatedAdd(Dims d, float[] res, float[] y, int n, float[] mod, int chunks, int gateChunk) {
        int w = d.dim();
        float[] out = new float[res.length];
        for (int s = 0; s < d.samples(); s++)
            GatedResidualOp.forward(res, s * n * w, y, s * n * w, n, w, mod, (s * chunks + gateChunk) * w, out, s * n * w);
        return out;
    }

    /** The branch's gradient dy = dOut ⊙ gate (a new array); adds Σ dOut ⊙ y into dmod's gate chunk. */
    static float[] gatedAddBackward(Dims d, float[] dout, float[] y, int n, float[] mod, int chunks, int gateChunk, float[] dmod) {
        int w = d.dim();
        float[] dy = new float[dout.length];
        for (int s = 0; s < d.samples(); s++)
            GatedResidualOp.backward(dout, s * n * w, y, s * n * w, n, w, mod, (s * chunks + gateChunk) * w, dy, s * n * w,
                    dmod, (s * chunks + gateChunk) * w);
        return dy;
    }
}
