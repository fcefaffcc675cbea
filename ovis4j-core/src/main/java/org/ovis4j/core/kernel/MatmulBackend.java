package org.ovis4j.core.kernel;

import org.ovis4j.core.tensor.Tensor;

/**
 * Computes the products of model layers: y = x·Wᵀ for weights W [out, in] prepared once per layer
 * ({@link #prepare}, e.g. repacked into the layout the backend's kernel reads). Selected by
 * a {@link ComputeContext}; {@link JavaMatmul} runs everywhere. Implementations hold no state of
 * any model (prepared weights belong to the layer that asked for them), so one instance serves
 * every context in the process.
 */
public interface MatmulBackend {
    /** Short name used by {@code --backend} and in reports ("java", "onednn"). */
    String name();

    /** Whether {@link #prepare} takes weights of this type (float types, maybe Q8_0). */
    default boolean supports(Tensor weight) {
        return weight.dtype().isFloat();
    }

    /** The weights of one layer, prepared for this backend; called once per layer. */
    Prepared prepare(Tensor weight);

    /** Whether {@link #prepareInt8} is available (int8 W8A8 matmul on this CPU). */
    default boolean hasInt8() {
        return false;
    }

    /**
     * The weights quantized to int8 per output channel, multiplied with activations quantized per
     * row at run time (W8A8).
     */
    default Prepared prepareInt8(Tensor weight) {
        throw new org.ovis4j.core.OvisException("the " + name() + " backend has no int8 path");
    }

    /**
     * The attention kernel that goes with this backend's matmuls (the Java float32 one unless the
     * backend has its own, e.g. bf16 products on AMX).
     */
    default AttentionKernel attention() {
        return Attention.JAVA;
    }

    /**
     * Products with both operands rounded to bf16 and float32 sums over float arrays (training's bf16
     * compute), or null when this backend has none or the CPU has no bf16 dot product.
     */
    default Bf16Gemm bf16Gemm() {
        return null;
    }

    /** One layer's weights in the backend's own layout. Implementations must be thread-safe. */
    interface Prepared {
        int in();

        int out();

        /**
         * y[r·ldy + yOff + n] = (accumulate ? y : bias[n] or 0) + Σ_k x[xOff + r·ldx + k]·W[n, k],
         * for r in [0, rows), n in [0, out), k in [0, in).
         */
        void multiply(float[] x, int xOff, int ldx, int rows, float[] bias, float[] y, int ldy, int yOff, boolean accumulate);
    }
}
