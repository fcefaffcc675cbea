package org.ovis4j.pipeline;

import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.DType;

/**
 * How the big matrices are computed. FP32 widens whatever the checkpoint stores to float32 (exact
 * for bf16 weights: the parity mode); it needs an exact float32 compute context (the java backend,
 * {@code ComputeContext.create(name, true)}), because native backends round activations to bf16.
 * BF16 keeps transformer and text-encoder matrices in bf16 (converted once at load when the
 * checkpoint stores float32) with float32 accumulation.
 */
public enum Precision {
    FP32(null),
    BF16(DType.BF16),
    /**
     * The transformer's block matrices as int8 W8A8 (weights per output channel, activations per
     * token at run time) on a backend with an int8 matmul; everything else as BF16.
     */
    INT8(DType.BF16);

    /** The dtype matrices are converted to at load, or null to use them as stored. */
    public final DType matrixType;

    Precision(DType matrixType) {
        this.matrixType = matrixType;
    }

    public static Precision parse(String s) {
        return switch (s.toLowerCase()) {
            case "fp32", "f32", "float32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            case "int8", "w8a8" -> INT8;
            default -> throw new OvisException("unknown precision \"" + s + "\" (expected fp32, bf16 or int8)");
        };
    }
}
