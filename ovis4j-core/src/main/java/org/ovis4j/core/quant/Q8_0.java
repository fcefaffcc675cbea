package org.ovis4j.core.quant;

import org.ovis4j.core.tensor.Floats;
import org.ovis4j.core.tensor.Tensor;

/**
 * Q8_0 as llama.cpp defines it: blocks of 32 consecutive values of a row share one scale
 * d = max|x| / 127 (stored as f16), and each value is round(x / d) in [-127, 127]. The scale used to
 * round is the f16-rounded one, so dequantizing (q · d) reproduces exactly what was chosen.
 */
public final class Q8_0 {
    public static final int BLOCK = Tensor.Q8_BLOCK;

    private Q8_0() {}

    /** The f16 bits of block b's scale for values x[off + 32b .. off + 32b + 31]. */
    public static short scaleBits(float[] x, int off) {
        float amax = 0f;
        for (int i = 0; i < BLOCK; i++) amax = Math.max(amax, Math.abs(x[off + i]));
        return Floats.floatToF16(amax / 127f);
    }

    /** Quantizes one block with the scale whose f16 bits are given. */
    public static void quantizeBlock(float[] x, int off, short scaleBits, byte[] out, int outOff) {
        float d = Floats.f16ToFloat(scaleBits);
        float inv = d == 0f ? 0f : 1f / d;
        for (int i = 0; i < BLOCK; i++) {
            int q = Math.round(x[off + i] * inv);
            out[outOff + i] = (byte) Math.max(-127, Math.min(127, q));
        }
    }
}
