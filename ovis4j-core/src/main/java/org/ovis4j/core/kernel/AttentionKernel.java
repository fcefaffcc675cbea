package org.ovis4j.core.kernel;

/**
 * Scaled dot-product attention, softmax(q·kᵀ·scale)·v per head, with optional causal masking and a
 * key-length limit (keys at or past {@code validKeys} are masked, as for right padding). Grouped-query
 * heads share key/value heads: query head h reads kv head h / (Hq / Hkv). Each backend may bring its
 * own ({@link MatmulBackend#attention()}; a model uses its {@link ComputeContext#attention()});
 * {@link Attention#JAVA} is the float32 one that runs everywhere.
 */
public interface AttentionKernel {
    /**
     * q [Lq, Hq·D] from qOff (row stride ldq), k and v [Lk, Hkv·D] from kOff / vOff (strides ldk, ldv),
     * out [Lq, Hq·D] from oOff (stride ldo). Implementations must never hold the scores of all heads
     * at once and must be callable from several threads.
     */
    void attend(float[] q, int qOff, int ldq, float[] k, int kOff, int ldk, float[] v, int vOff, int ldv,
                float[] out, int oOff, int ldo, int lq, int lk, int hq, int hkv, int d, float scale,
                boolean causal, int validKeys);

    /** As above with every matrix starting at element 0. */
    default void attend(float[] q, int ldq, float[] k, int ldk, float[] v, int ldv, float[] out, int ldo,
                        int lq, int lk, int hq, int hkv, int d, float scale, boolean causal, int validKeys) {
        attend(q, 0, ldq, k, 0, ldk, v, 0, ldv, out, 0, ldo, lq, lk, hq, hkv, d, scale, causal, validKeys);
    }
}
