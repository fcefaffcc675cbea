package org.ovis4j.train.dit;

import org.ovis4j.dit.TransformerConfig;

/**
 * The sizes of one pass: B samples of T text and N image rows (L = T + N), width D = heads x head
 * dim, SwiGLU hidden F. Streams are laid out sample after sample ([B·T, D], [B·N, D]); the joint
 * sequence of attention and of the single blocks is [B·L, D] with each sample's rows [text; image].
 */
record Dims(int samples, int txt, int img, int dim, int heads, int headDim, int hidden) {
    static Dims of(TransformerConfig cfg, TransformerBatch batch) {
        return new Dims(batch.samples(), batch.textTokens(), batch.imageTokens(), cfg.innerDim(), cfg.numAttentionHeads(),
                cfg.attentionHeadDim(), cfg.mlpHidden());
    }

    int len() {
        return txt + img;
    }

    /** Rows of the joint sequence, all samples. */
    int rows() {
        return samples * len();
    }

    /** A stream's rows of each sample ([B·n, D], sample after sample) into rows rowInSample... of each sample of joint [B·L, D]. */
    void scatter(float[] stream, int n, int rowInSample, float[] joint) {
        for (int s = 0; s < samples; s++) System.arraycopy(stream, s * n * dim, joint, (s * len() + rowInSample) * dim, n * dim);
    }

    /** The inverse of {@link #scatter}: rows rowInSample ... rowInSample + n of each sample, stacked. */
    float[] gather(float[] joint, int n, int rowInSample) {
        float[] stream = new float[samples * n * dim];
        for (int s = 0; s < samples; s++) System.arraycopy(joint, (s * len() + rowInSample) * dim, stream, s * n * dim, n * dim);
        return stream;
    }
}
