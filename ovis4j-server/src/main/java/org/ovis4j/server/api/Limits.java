package org.ovis4j.server.api;

import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.pipeline.Generation;

/**
 * What one request may ask for. Sizes and steps bound a job's time and memory; the prompt's length
 * bounds the tokenizer's work (the text encoder keeps 256 tokens whatever the length).
 */
public record Limits(int maxWidth, int maxHeight, int maxSteps, int maxImages, int maxPromptChars, long maxBodyBytes) {
    public static final int DEFAULT_MAX_IMAGES = 4;
    /** OpenAI's own limit for gpt-image-1 prompts. */
    public static final int DEFAULT_MAX_PROMPT_CHARS = 32_000;
    public static final long DEFAULT_MAX_BODY_BYTES = 1 << 20;

    public Limits {
        if (maxWidth < 16 || maxWidth > Generation.MAX_SIDE || maxWidth % 16 != 0 || maxHeight < 16 || maxHeight > Generation.MAX_SIDE || maxHeight % 16 != 0)
            throw new IllegalArgumentException("bad max size " + maxWidth + "x" + maxHeight);
    }

    /** The default size: 1024x1024, or the largest square the limits allow. */
    public int defaultSide() { return Math.min(1024, Math.min(maxWidth, maxHeight)); }

    public int defaultSteps() { return Math.min(50, maxSteps); }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("max_width", (long) maxWidth);
        m.put("max_height", (long) maxHeight);
        m.put("max_steps", (long) maxSteps);
        m.put("max_n", (long) maxImages);
        m.put("max_prompt_chars", (long) maxPromptChars);
        m.put("max_body_bytes", maxBodyBytes);
        m.put("default_size", defaultSide() + "x" + defaultSide());
        m.put("default_steps", (long) defaultSteps());
        return m;
    }
}
