package org.ovis4j.train.dit;

import org.ovis4j.core.OvisException;

/**
 * One training batch as the transformer sees it: packed latents, text states and one σ per sample
 * (training batches mix noise levels), and the position ids every sample shares.
 *
 * @param latents  x_σ [samples, imageTokens, in_channels]
 * @param text     prompt embeddings [samples, textTokens, joint_attention_dim] (pad rows included, unmasked)
 * @param sigmas   [samples], in [0, 1]; the model scales them by 1000
 * @param txtIds   [textTokens, 3]
 * @param imgIds   [imageTokens, 3]
 */
public record TransformerBatch(int samples, int imageTokens, int textTokens, float[] latents, float[] text,
                               float[] sigmas, float[] txtIds, float[] imgIds) {
    public TransformerBatch {
        if (samples <= 0 || imageTokens <= 0 || textTokens < 0)
            throw new OvisException("training batch: bad sizes (" + samples + " samples, " + imageTokens + " image and "
                    + textTokens + " text tokens)");
        if (sigmas.length != samples) throw new OvisException("training batch: " + sigmas.length + " sigmas for " + samples + " samples");
        if (txtIds.length != textTokens * 3 || imgIds.length != imageTokens * 3)
            throw new OvisException("training batch: position ids do not match " + textTokens + " text and " + imageTokens + " image tokens");
    }

    /** Checks the latent and text widths against the model's. */
    void check(int inChannels, int textWidth) {
        if (latents.length != samples * imageTokens * inChannels)
            throw new OvisException("training batch: latents hold " + latents.length + " values, expected " + samples + " x "
                    + imageTokens + " x " + inChannels);
        if (text.length != samples * textTokens * textWidth)
            throw new OvisException("training batch: text states hold " + text.length + " values, expected " + samples + " x "
                    + textTokens + " x " + textWidth);
    }

    /** [text ids; image ids], the order of each sample's rows. */
    float[] ids() {
        float[] ids = new float[txtIds.length + imgIds.length];
        System.arraycopy(txtIds, 0, ids, 0, txtIds.length);
        System.arraycopy(imgIds, 0, ids, txtIds.length, imgIds.length);
        return ids;
    }
}
