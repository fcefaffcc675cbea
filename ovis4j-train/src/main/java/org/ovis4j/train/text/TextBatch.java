package org.ovis4j.train.text;

import org.ovis4j.core.OvisException;

/**
 * A batch of token sequences for the text encoder under training: {@code samples} sequences of
 * {@code length} ids each, right-padded; sequence s has {@code valid[s]} real tokens, the rest pads.
 * Attention is causal, so a real row never sees a pad and the padding never changes a real row's
 * state (the pipeline's {@code OvisTextEncoder} relies on the same fact).
 *
 * @param ids [samples · length], row-major
 */
public record TextBatch(int samples, int length, int[] ids, int[] valid) {
    public TextBatch {
        if (samples < 1 || length < 1) throw new OvisException("text batch: " + samples + " sequences of " + length + " tokens");
        if (ids.length != samples * length) throw new OvisException("text batch: " + ids.length + " ids for " + samples + " x " + length);
        if (valid.length != samples) throw new OvisException("text batch: " + valid.length + " lengths for " + samples + " sequences");
        for (int v : valid) if (v < 1 || v > length) throw new OvisException("text batch: " + v + " real tokens of " + length);
    }

    public int rows() {
        return samples * length;
    }

    /**
     * The next-token targets of a causal language model on this batch: row (s, t) predicts ids[s, t+1] when
     * {@code firstRow ≤ t} and t+1 is a real token, else −1 (no loss there; transformers' label −100). The
     * rows before {@code firstRow} still give the context; they are left out of the loss when they are the
     * same for every sequence (the Ovis template's prefix), which the model would learn for nothing.
     */
    public int[] nextTokenTargets(int firstRow) {
        int[] t = new int[rows()];
        for (int s = 0; s < samples; s++)
            for (int i = 0; i < length; i++)
                t[s * length + i] = i >= firstRow && i + 1 < valid[s] ? ids[s * length + i + 1] : -1;
        return t;
    }
}
