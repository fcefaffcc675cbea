package org.ovis4j.pipeline;

import java.util.concurrent.atomic.AtomicBoolean;
import org.ovis4j.core.OvisException;

/**
 * Everything that varies per image. Defaults are the reference pipeline's: 1024x1024, 50 steps,
 * guidance 5.0, empty negative prompt, 256 text tokens.
 */
public final class Generation {
    public static final int MAX_SIDE = 4096;

    private final String prompt;
    private String negativePrompt = "";
    private int width = 1024, height = 1024, steps = 50, maxSequenceLength = 256;
    private float guidance = 5.0f;
    private long seed = 0;
    private float[] initialNoise;
    private ProgressListener listener = ProgressListener.NONE;
    private final AtomicBoolean cancelled = new AtomicBoolean();

    private Generation(String prompt) {
        if (prompt == null) throw new OvisException("prompt must not be null (use \"\" for an empty prompt)");
        this.prompt = prompt;
    }

    public static Generation of(String prompt) {
        return new Generation(prompt);
    }

    public Generation negativePrompt(String s) {
        if (s == null) throw new OvisException("negative prompt must not be null (use \"\")");
        negativePrompt = s;
        return this;
    }

    public Generation size(int width, int height) {
        this.width = width;
        this.height = height;
        return this;
    }

    public Generation steps(int n) { steps = n; return this; }
    public Generation guidance(float g) { guidance = g; return this; }
    public Generation seed(long s) { seed = s; return this; }
    public Generation maxSequenceLength(int n) { maxSequenceLength = n; return this; }
    public Generation listener(ProgressListener l) { listener = l == null ? ProgressListener.NONE : l; return this; }

    /** Initial noise [16, height/8, width/8] (unpacked), used instead of the seed. */
    public Generation initialNoise(float[] noise) { initialNoise = noise; return this; }

    /** Asks a running generation to stop at the next step; it then throws {@link java.util.concurrent.CancellationException}. */
    public void cancel() { cancelled.set(true); }

    public boolean isCancelled() { return cancelled.get(); }

    public String prompt() { return prompt; }
    public String negativePrompt() { return negativePrompt; }
    public int width() { return width; }
    public int height() { return height; }
    public int steps() { return steps; }
    public float guidance() { return guidance; }
    public long seed() { return seed; }
    public int maxSequenceLength() { return maxSequenceLength; }
    public float[] initialNoise() { return initialNoise; }
    public ProgressListener listener() { return listener; }

    /** Whether the unconditional branch runs: like the reference, only for guidance above 1. */
    public boolean guided() { return guidance > 1f; }

    /** One-line errors for values the pipeline cannot run. */
    public void validate() {
        checkSide("width", width);
        checkSide("height", height);
        if (steps < 1 || steps > 1000) throw new OvisException("steps must be between 1 and 1000, got " + steps);
        if (!Float.isFinite(guidance) || guidance < 0) throw new OvisException("guidance must be a non-negative number, got " + guidance);
        if (maxSequenceLength < 1 || maxSequenceLength > 256)
            throw new OvisException("max sequence length must be between 1 and 256, got " + maxSequenceLength);
        int expected = 16 * (height / 8) * (width / 8);
        if (initialNoise != null && initialNoise.length != expected)
            throw new OvisException("initial noise has " + initialNoise.length + " values, expected " + expected
                    + " for [16, " + height / 8 + ", " + width / 8 + "]");
    }

    private static void checkSide(String what, int v) {
        if (v < 16 || v > MAX_SIDE) throw new OvisException(what + " " + v + " is out of range (16 to " + MAX_SIDE + ")");
        if (v % 16 != 0) throw new OvisException(what + " " + v + " is not a multiple of 16");
    }
}
