package org.ovis4j.lora;

import org.ovis4j.core.OvisException;

/**
 * The low-rank update of one linear module, y = W·x + b + scale·B(A·x), addressed by its diffusers
 * module name (e.g. {@code transformer_blocks.0.attn.to_q}): A [rank, in] ({@code lora_A}, "down"),
 * B [out, rank] ({@code lora_B}, "up"), both row-major float32, and the factor of the update
 * (alpha / rank times any user scale, as diffusers computes it). A model built with adapters
 * ({@code OvisImageTransformer.withLora}) checks each against its parameter walk.
 */
public record LoraAdapter(String module, int rank, float[] a, float[] b, float scale) {
    public LoraAdapter {
        if (rank < 1) throw new OvisException("lora " + module + ": rank must be at least 1, got " + rank);
        if (a.length == 0 || a.length % rank != 0 || b.length == 0 || b.length % rank != 0)
            throw new OvisException("lora " + module + ": A has " + a.length + " and B " + b.length
                    + " values, not multiples of rank " + rank);
        if (!Float.isFinite(scale)) throw new OvisException("lora " + module + ": scale " + scale + " is not finite");
    }

    /** Inputs of the module: A's width. */
    public int in() { return a.length / rank; }

    /** Outputs of the module: B's height. */
    public int out() { return b.length / rank; }

    /** The same update with another factor (e.g. {@code --lora FILE:SCALE}). */
    public LoraAdapter withScale(float newScale) {
        return new LoraAdapter(module, rank, a, b, newScale);
    }
}
