package org.ovis4j.lora;

import java.util.Arrays;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.ParameterSpec;

/**
 * The low-rank update of one linear module, y = W·x + b + scale·B(A·x), addressed by its diffusers
 * module name (e.g. {@code transformer_blocks.0.attn.to_q}): A [rank, in] ({@code lora_A}, "down"),
 * B [out, rank] ({@code lora_B}, "up"), both row-major float32, and the factor of the update
 * (alpha / rank times any user scale, as diffusers computes it). A model built with adapters
 * ({@code OvisImageTransformer.withLora}) checks each against its parameter walk; {@link Lora}
 * groups the adapters of one file.
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

    /**
     * Checks that this adapter fits a linear module of a component's parameter walk ({@link
     * ParameterSpec#byName}): the module exists and is linear, A and B match its weight's [out, in].
     * Errors are one line naming the module.
     */
    public void requireFits(String component, Map<String, ParameterSpec> walk) {
        ParameterSpec w = walk.get(module + ".weight");
        if (w == null || w.kind() != ParameterSpec.Kind.LINEAR_WEIGHT)
            throw new OvisException("lora: the " + component + " has no linear module \"" + module + "\"");
        long[] s = w.shape();
        if (out() != s[0] || in() != s[1])
            throw new OvisException("lora " + module + ": adapter is [" + out() + ", " + in() + "] (rank " + rank
                    + "), the module's weight is " + Arrays.toString(s));
    }

    /** The same update with another factor (e.g. {@code --lora FILE:SCALE}). */
    public LoraAdapter withScale(float newScale) {
        return new LoraAdapter(module, rank, a, b, newScale);
    }
}
