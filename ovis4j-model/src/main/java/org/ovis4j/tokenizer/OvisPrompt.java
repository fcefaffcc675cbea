package org.ovis4j.tokenizer;

import java.util.Arrays;
import org.ovis4j.core.OvisException;

/**
 * The Ovis-Image text-encoder input: the Qwen3 chat template around one user message (system
 * prompt + user prompt, generation prompt, thinking disabled), truncated and padded the way the
 * reference pipeline does it (spec section 2).
 */
public final class OvisPrompt {
    private OvisPrompt() {}

    /** Rows the pipeline drops from the text-encoder output, hard-coded in the reference. */
    public static final int DROPPED_ROWS = 28;

    /** Trailing space included: the prompt follows it directly, so ": a" tokenizes as ":" " a". */
    public static final String SYSTEM_PROMPT = "Describe the image by detailing the color, quantity, text, shape, size, "
            + "texture, spatial relationships of the objects and background: ";

    static final String PAD_TOKEN = "<|endoftext|>";

    public static String render(String prompt) {
        return "<|im_start|>user\n" + SYSTEM_PROMPT + prompt
                + "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
    }

    /**
     * Tokenizes the rendered prompt, keeps the first {@code maxSequenceLength + 28} tokens (so a long
     * prompt loses the template's end) and right-pads to exactly that length with {@code <|endoftext|>}.
     */
    public static Encoded encode(Qwen3Tokenizer tok, String prompt, int maxSequenceLength) {
        if (maxSequenceLength < 1)
            throw new OvisException("max sequence length must be at least 1, got " + maxSequenceLength);
        int pad = tok.tokenId(PAD_TOKEN);
        if (pad < 0) throw new OvisException("tokenizer has no " + PAD_TOKEN + " token to pad with");
        int[] all = tok.encode(render(prompt));
        int length = maxSequenceLength + DROPPED_ROWS;
        int valid = Math.min(all.length, length);
        int[] ids = Arrays.copyOf(all, length);
        Arrays.fill(ids, valid, length, pad);
        return new Encoded(ids, valid, all.length);
    }

    /**
     * @param ids               exactly {@code maxSequenceLength + 28} ids, padding included
     * @param validTokens       real tokens at the start of {@code ids} (attention mask 1)
     * @param untruncatedTokens tokens the rendered prompt has before truncation
     */
    public record Encoded(int[] ids, int validTokens, int untruncatedTokens) {
        public boolean truncated() {
            return untruncatedTokens > validTokens;
        }
    }
}
