package org.ovis4j.onednn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Rounding float32 to bf16 (nearest, ties to even) into native memory, as oneDNN's bf16 operands. */
final class Bf16 {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SH = ShortVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(F.vectorBitSize() / 2));
    /** Whether one float vector narrows to one short vector of the same lane count (true on AVX2 and AVX-512). */
    static final boolean VECTOR = SH.length() == F.length();
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Bf16() {}

    static short round(float x) {
        int b = Float.floatToRawIntBits(x);
        return (short) ((b + 0x7FFF + ((b >>> 16) & 1)) >>> 16);
    }

    /** Stores the lanes of v as bf16 at dst[off] (needs {@link #VECTOR}). */
    static void store(FloatVector v, MemorySegment dst, long off) {
        IntVector b = v.reinterpretAsInts();
        IntVector r = b.add(b.lanewise(VectorOperators.LSHR, 16).and(1)).add(0x7FFF).lanewise(VectorOperators.LSHR, 16);
        ((ShortVector) r.convertShape(VectorOperators.I2S, SH, 0)).intoMemorySegment(dst, off, ByteOrder.LITTLE_ENDIAN);
    }

    /** count floats from x[off] to bf16 at dst[dstOff]. */
    static void store(float[] x, int off, int count, MemorySegment dst, long dstOff) {
        int i = 0;
        if (VECTOR)
            for (int n = F.length(); i + n <= count; i += n) store(FloatVector.fromArray(F, x, off + i), dst, dstOff + 2L * i);
        for (; i < count; i++) dst.set(SHORT_LE, dstOff + 2L * i, round(x[off + i]));
    }

    static void set(MemorySegment dst, long off, float x) {
        dst.set(SHORT_LE, off, round(x));
    }
}
