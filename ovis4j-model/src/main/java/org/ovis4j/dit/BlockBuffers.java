package org.ovis4j.dit;

/**
 * The activations of one forward pass, allocated once and reused by every block: at 1024x1024 one
 * block's intermediates are about 1 GiB per sample, which allocated afresh in each of the 33 blocks
 * made the heap grow to its limit with dead arrays. Rows are samples x L (= text + image), each
 * sample's rows contiguous as [text; image]. Held by a {@link TransformerWorkspace}, not by the model.
 */
final class BlockBuffers {
    final int samples, perSample, rows, dim, hidden;
    /** Attention inputs [rows, D]. */
    final float[] q, k, v;
    /** Modulated LayerNorm output [rows, D]; double blocks put all samples' text rows first, then image rows. */
    final float[] normed;
    /** [rows, D]: one projection's output before it is placed into q/k/v, or attention rows gathered by stream. */
    final float[] staging;
    /** Output projections [rows, D] (attention out, MLP down), before the gated residual add. */
    final float[] projected;
    /**
     * Single blocks: [rows, D + F], attention output then gated MLP hidden per row (the shared output
     * projection's input). Double blocks: first the attention output [rows, D], then, once that is
     * projected, the MLP hidden [rows, F].
     */
    final float[] mixed;
    /** The gate half of SwiGLU [rows, F], before it is folded into the up half. */
    final float[] gate;

    BlockBuffers(int samples, int perSample, int dim, int hidden) {
        this.samples = samples;
        this.perSample = perSample;
        this.rows = samples * perSample;
        this.dim = dim;
        this.hidden = hidden;
        int rd = Math.multiplyExact(rows, dim);
        q = new float[rd];
        k = new float[rd];
        v = new float[rd];
        normed = new float[rd];
        staging = new float[rd];
        projected = new float[rd];
        mixed = new float[Math.multiplyExact(rows, dim + hidden)];
        gate = new float[Math.multiplyExact(rows, hidden)];
    }
}
