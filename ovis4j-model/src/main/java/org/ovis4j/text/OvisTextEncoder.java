package org.ovis4j.text;

import org.ovis4j.core.OvisException;

/**
 * The Ovis-Image use of the Qwen3 LLM (spec section 2, steps 5–6): run it on the right-padded
 * template ids [maxSeq + 28], multiply the last hidden states by the attention mask, and drop the
 * first 28 rows, always. Result: prompt_embeds [maxSeq, hidden], pad rows exactly zero.
 *
 * <p>Only the real tokens are run through the model. With right padding and causal attention a
 * real row never sees a pad, so rows [0, validTokens) of the full padded forward are exactly
 * {@link Qwen3Model#forwardPrefix}; the pad rows the full forward would compute are multiplied by 0
 * here and never leave this class, so they are not computed at all (for a short prompt that skips
 * most of the 284 rows).
 */
public final class OvisTextEncoder {
    /** diffusers' {@code user_prompt_begin_id}: rows dropped from the front, whatever the tokenizer. */
    public static final int PROMPT_START_ROW = 28;

    private final Qwen3Model model;

    public OvisTextEncoder(Qwen3Model model) {
        this.model = model;
    }

    public Qwen3Model model() {
        return model;
    }

    /** Width of each prompt_embeds row (the LLM's hidden size, 2048 for Ovis-Image-7B). */
    public int hiddenSize() {
        return model.config().hiddenSize();
    }

    /**
     * prompt_embeds [ids.length − 28, hidden] for padded ids whose first {@code validTokens} are real
     * (attention mask 1) and the rest pads.
     */
    public float[] encode(int[] ids, int validTokens) {
        int length = ids.length;
        if (length <= PROMPT_START_ROW)
            throw new OvisException("text encoder: " + length + " ids; need more than " + PROMPT_START_ROW
                    + " (the template prefix) plus max_sequence_length");
        if (validTokens < 0 || validTokens > length)
            throw new OvisException("text encoder: " + validTokens + " real tokens of " + length);
        int hidden = hiddenSize(), maxSeq = length - PROMPT_START_ROW;
        float[] out = new float[maxSeq * hidden];
        if (validTokens <= PROMPT_START_ROW) return out; // every kept row is a pad: all zero
        float[] h = model.forwardPrefix(ids, validTokens);
        System.arraycopy(h, PROMPT_START_ROW * hidden, out, 0, (validTokens - PROMPT_START_ROW) * hidden);
        return out;
    }

    /**
     * As {@link #encode(int[], int)} with the attention mask given as 0/1 per position; it must be
     * right padding (ones, then zeros), which the fixed 28-row offset relies on.
     */
    public float[] encode(int[] ids, long[] attentionMask) {
        if (attentionMask.length != ids.length)
            throw new OvisException("text encoder: attention mask has " + attentionMask.length + " entries for " + ids.length + " ids");
        return encode(ids, validCount(attentionMask));
    }

    /** The number of leading ones in a right-padded 0/1 mask; anything else is an error. */
    public static int validCount(long[] mask) {
        int n = 0;
        while (n < mask.length && mask[n] == 1) n++;
        for (int i = n; i < mask.length; i++)
            if (mask[i] != 0)
                throw new OvisException("text encoder: attention mask is not right padding (value " + mask[i]
                        + " at position " + i + " after a pad)");
        return n;
    }
}
