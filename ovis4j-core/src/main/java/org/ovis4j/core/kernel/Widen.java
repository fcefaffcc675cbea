package org.ovis4j.core.kernel;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/** Widening of stored weights (f32, bf16, f16, Q8_0) into float32 buffers, vectorised where it pays. */
public final class Widen {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /**
     * Int8 values matching one float vector (a quarter of its bit width), for Q8_0 weights; null where
     * no such shape exists (128-bit floats), and then callers go scalar.
     */
    static final VectorSpecies<Byte> INT8 = F.vectorBitSize() / 4 >= 64
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4)) : null;

    /** One float vector of the int8 values at byte offset {@code at} (needs {@link #INT8}). */
    static FloatVector int8ToFloats(MemorySegment values, long at) {
        return (FloatVector) ByteVector.fromMemorySegment(INT8, values, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2F, F, 0);
    }
    /** Shorts matching one float vector: half its bit width. */
    private static final VectorSpecies<Short> SH = ShortVector.SPECIES_PREFERRED.length() == 2 * F.length()
            ? halfSpecies() : ShortVector.SPECIES_64;

    private static VectorSpecies<Short> halfSpecies() {
        return switch (F.vectorBitSize()) {
            case 512 -> ShortVector.SPECIES_256;
            case 256 -> ShortVector.SPECIES_128;
            default -> ShortVector.SPECIES_64;
        };
    }

    private Widen() {}

    /** dst[off + i] = t[from + i] as float (Q8_0: dequantized), for i in [0, count). */
    public static void read(Tensor t, long from, float[] dst, int off, int count) {
        if (t.blockScales() != null) q8(t, from, dst, off, count);
        else if (t.dtype() == DType.BF16) bf16(t.data(), from * 2, dst, off, count);
        else t.readFloats(from, dst, off, count);
    }

    /**
     * Q8_0 values times their block's scale, as {@link Tensor#getFloat} computes them. The matrix's
     * rows are whole blocks, so element i's scale is scales[i / 32] in flat order.
     */
    static void q8(Tensor t, long from, float[] dst, int off, int count) {
        Tensor scales = t.blockScales();
        MemorySegment values = t.data();
        int n = F.length();
        for (int i = 0; i < count; ) {
            long at = from + i;
            int run = (int) Math.min(Tensor.Q8_BLOCK - at % Tensor.Q8_BLOCK, count - i);
            float s = scales.getFloat(at / Tensor.Q8_BLOCK);
            int j = 0;
            if (INT8 != null)
                for (; j + n <= run; j += n) int8ToFloats(values, at + j).mul(s).intoArray(dst, off + i + j);
            for (; j < run; j++) dst[off + i + j] = values.get(ValueLayout.JAVA_BYTE, at + j) * s;
            i += run;
        }
    }

    static void bf16(MemorySegment seg, long byteOff, float[] dst, int off, int count) {
        int n = F.length();
        int i = 0;
        if (SH.length() == n) {
            for (; i + n <= count; i += n) {
                ShortVector s = ShortVector.fromMemorySegment(SH, seg, byteOff + 2L * i, ByteOrder.LITTLE_ENDIAN);
                IntVector w = (IntVector) s.convertShape(VectorOperators.S2I, I, 0);
                w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, off + i);
            }
        }
        for (; i < count; i++) {
            short b = seg.get(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), byteOff + 2L * i);
            dst[off + i] = Float.intBitsToFloat((b & 0xFFFF) << 16);
        }
    }
}
