package org.ovis4j.train.dit;

import org.ovis4j.dit.PositionEmbedding;

/**
 * One forward pass of a {@link TrainableTransformer} and everything its backward reads. Owned by the
 * caller, never by the model: two models (a policy and its reference) or two passes of one model
 * never share activations. With recomputation (gradient checkpointing)
 * only each block's input is kept and the backward runs the block's forward again.
 */
public final class TransformerPass {
    final TransformerBatch batch;
    final Dims dims;
    final boolean recompute;
    final PositionEmbedding pe;

    // timestep embedder: sinusoid [B, 256] → linear_1 (t1) → SiLU (a1) → linear_2 (vec); SiLU(vec) drives every modulation
    float[] sinusoid, t1, a1, vec, siluVec;
    // text: context_embedder_norm (1/rms per row, output), then context_embedder
    float[] textRstd, textNormed;
    // block inputs: double blocks {text [B·T, D], image [B·N, D]}, single blocks the joint rows [B·L, D]
    final float[][][] doubleIn;
    final float[][] singleIn;
    final DoubleBlock.Saved[] doubleSaved;
    final SingleBlock.Saved[] singleSaved;
    // output layer: image rows after the last block, norm_out's (scale, shift) per sample, its LayerNorm, proj_out
    float[] imgFinal, outMod, outMean, outRstd, outNormed, prediction;

    TransformerPass(TransformerBatch batch, Dims dims, boolean recompute, PositionEmbedding pe, int doubles, int singles) {
        this.batch = batch;
        this.dims = dims;
        this.recompute = recompute;
        this.pe = pe;
        doubleIn = new float[doubles][][];
        singleIn = new float[singles][];
        doubleSaved = new DoubleBlock.Saved[doubles];
        singleSaved = new SingleBlock.Saved[singles];
    }

    public TransformerBatch batch() {
        return batch;
    }

    /** Whether blocks are recomputed in the backward (only their inputs kept). */
    public boolean recomputes() {
        return recompute;
    }

    /** The predicted velocity [samples, imageTokens, out_channels]. */
    public float[] prediction() {
        return prediction;
    }
}
