package org.ovis4j.core.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.ovis4j.core.OvisException;

/**
 * A named n-dimensional array stored little-endian in a {@link MemorySegment}: for weights, a slice
 * of a memory-mapped safetensors file, used in place. Reading widens to float32.
 */
public final class Tensor {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final MemorySegment data;
    /** Q8_0 only: one scale per block of {@link #Q8_BLOCK} values along the last dimension, else null. */
    private final Tensor blockScales;

    /** Values per Q8_0 block: int8 weights [out, in] with one scale per 32 consecutive inputs. */
    public static final int Q8_BLOCK = 32;

    public Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
        this(name, dtype, shape, data, null);
    }

    private Tensor(String name, DType dtype, long[] shape, MemorySegment data, Tensor blockScales) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.data = data;
        this.blockScales = blockScales;
        long expected = numel(shape) * dtype.bytes;
        if (data.byteSize() != expected)
            throw new OvisException(name + ": " + data.byteSize() + " bytes for shape " + Arrays.toString(shape)
                    + " of " + dtype + " (expected " + expected + ")");
    }

    /**
     * This int8 matrix [rows, cols] as Q8_0 with {@code scales} [rows, cols/32] (any float dtype): value
     * (r, c) = this[r, c] · scales[r, c/32]. Every float accessor then returns dequantized values.
     */
    public Tensor withBlockScales(Tensor scales) {
        if (dtype != DType.I8 || rank() != 2 || shape[1] % Q8_BLOCK != 0)
            throw new OvisException(name + ": Q8_0 needs an int8 matrix whose columns are a multiple of " + Q8_BLOCK
                    + ", got " + dtype + Arrays.toString(shape));
        scales.expectShape(shape[0], shape[1] / Q8_BLOCK);
        if (!scales.dtype().isFloat()) throw new OvisException(scales.name() + ": Q8_0 scales must be a float type");
        return new Tensor(name, dtype, shape, data, scales);
    }

    /** The Q8_0 block scales, or null for a plain tensor. */
    public Tensor blockScales() { return blockScales; }

    /**
     * Drops this tensor's memory-mapped pages (values and, for Q8_0, block scales) from the process:
     * they stay in the page cache and fault back in if read again. No effect on heap or native copies.
     */
    public void releasePages() {
        if (data.isMapped()) data.unload();
        if (blockScales != null) blockScales.releasePages();
    }

    /** True for float tensors and Q8_0 matrices: what a layer can multiply by. */
    public boolean isWeight() { return dtype.isFloat() || blockScales != null; }

    /** A float32 tensor over a copy of {@code values} in off-heap memory owned by {@code arena}. */
    public static Tensor ofFloats(String name, long[] shape, float[] values, Arena arena) {
        MemorySegment seg = arena.allocate((long) values.length * 4, 64);
        MemorySegment.copy(values, 0, seg, F32, 0, values.length);
        return new Tensor(name, DType.F32, shape, seg);
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public String name() { return name; }
    public DType dtype() { return dtype; }
    public long[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public long dim(int i) { return shape[i < 0 ? shape.length + i : i]; }
    public long numel() { return numel(shape); }
    public MemorySegment data() { return data; }

    /** Element {@code i} (flat, row-major) widened to float. */
    public float getFloat(long i) {
        if (blockScales != null) return data.get(ValueLayout.JAVA_BYTE, i) * blockScales.getFloat(i / Q8_BLOCK);
        return switch (dtype) {
            case F32 -> data.get(F32, i * 4);
            case BF16 -> Floats.bf16ToFloat(data.get(I16, i * 2));
            case F16 -> Floats.f16ToFloat(data.get(I16, i * 2));
            case F64 -> (float) data.get(F64, i * 8);
            case I64 -> data.get(I64, i * 8);
            case I32 -> data.get(I32, i * 4);
            case I16 -> data.get(I16, i * 2);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8 -> data.get(ValueLayout.JAVA_BYTE, i) & 0xFF;
            case BOOL -> data.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1f : 0f;
        };
    }

    public double getDouble(long i) {
        return dtype == DType.F64 ? data.get(F64, i * 8) : dtype == DType.I64 ? data.get(I64, i * 8) : getFloat(i);
    }

    public long getLong(long i) {
        return switch (dtype) {
            case I64 -> data.get(I64, i * 8);
            case I32 -> data.get(I32, i * 4);
            default -> (long) getDouble(i);
        };
    }

    /** Widens {@code count} elements starting at flat index {@code from} into {@code dst[off..]}. */
    public void readFloats(long from, float[] dst, int off, int count) {
        if (blockScales != null) {
            for (int k = 0; k < count; k++) dst[off + k] = getFloat(from + k);
            return;
        }
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, F32, from * 4, dst, off, count);
            case BF16 -> {
                long base = from * 2;
                for (int k = 0; k < count; k++) dst[off + k] = Floats.bf16ToFloat(data.get(I16, base + 2L * k));
            }
            case F16 -> {
                long base = from * 2;
                for (int k = 0; k < count; k++) dst[off + k] = Floats.f16ToFloat(data.get(I16, base + 2L * k));
            }
            default -> {
                for (int k = 0; k < count; k++) dst[off + k] = getFloat(from + k);
            }
        }
    }

    /** All elements widened to float on the heap: for small tensors (norm weights, biases, test vectors). */
    public float[] toFloats() {
        long n = numel();
        if (n > Integer.MAX_VALUE - 16) throw new OvisException(name + ": too large to copy to the heap");
        float[] out = new float[(int) n];
        readFloats(0, out, 0, out.length);
        return out;
    }

    public long[] toLongs() {
        long[] out = new long[Math.toIntExact(numel())];
        for (int k = 0; k < out.length; k++) out[k] = getLong(k);
        return out;
    }

    /** A view of rows {@code [from, to)} along the first dimension (no copy). */
    public Tensor rows(long from, long to) {
        long[] s = shape.clone();
        long rowElems = numel(shape) / shape[0];
        s[0] = to - from;
        return new Tensor(name + "[" + from + ":" + to + "]", dtype,
                s, data.asSlice(from * rowElems * dtype.bytes, (to - from) * rowElems * dtype.bytes),
                blockScales == null ? null : blockScales.rows(from, to));
    }

    /** The same bytes seen with another shape of equal element count (no copy). */
    public Tensor reshape(long... newShape) {
        if (numel(newShape) != numel()) throw new OvisException(name + ": cannot reshape " + Arrays.toString(shape)
                + " to " + Arrays.toString(newShape));
        if (blockScales != null && !Arrays.equals(newShape, shape))
            throw new OvisException(name + ": a Q8_0 matrix cannot be reshaped");
        return new Tensor(name, dtype, newShape, data, blockScales);
    }

    /** A copy converted to {@code target} (float types), in memory owned by {@code arena}. */
    public Tensor convert(DType target, Arena arena) {
        if (target == dtype) return this;
        long n = numel();
        MemorySegment seg = arena.allocate(n * target.bytes, 64);
        float[] buf = new float[(int) Math.min(n, 1 << 16)];
        for (long at = 0; at < n; at += buf.length) {
            int c = (int) Math.min(buf.length, n - at);
            readFloats(at, buf, 0, c);
            for (int k = 0; k < c; k++) {
                long o = at + k;
                switch (target) {
                    case F32 -> seg.set(F32, o * 4, buf[k]);
                    case BF16 -> seg.set(I16, o * 2, Floats.floatToBf16(buf[k]));
                    case F16 -> seg.set(I16, o * 2, Floats.floatToF16(buf[k]));
                    default -> throw new OvisException("cannot convert " + name + " to " + target);
                }
            }
        }
        return new Tensor(name, target, shape, seg);
    }

    /** Throws a one-line error unless the shape is exactly {@code expected}. */
    public Tensor expectShape(long... expected) {
        if (!Arrays.equals(shape, expected))
            throw new OvisException(name + ": shape " + Arrays.toString(shape) + ", expected " + Arrays.toString(expected));
        return this;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
