package org.ovis4j.core.kernel;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/** Widening of stored weights (f32, bf16, f16) into float32 buffers, vectorised where it pays. */
public final class Widen {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
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

    /** dst[off + i] = t[from + i] as float, for i < count. */
    public static void read(Tensor t, long from, float[] dst, int off, int count) {
        if (t.dtype() == DType.BF16) bf16(t.data(), from * 2, dst, off, count);
        else t.readFloats(from, dst, off, count);
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
