package org.ovis4j.core.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * A weight matrix W [N, K] repacked once, off-heap, in the order {@link Gemm}'s micro-kernel reads
 * it: panel after panel of {@link Gemm#NR} output rows, each panel K steps of NR values, so the
 * kernel streams memory sequentially instead of gathering 32 strided rows per block.
 *
 * <p>bf16 weights stay 16-bit. Within one step the two halves of the panel are interleaved as
 * 32-bit lanes (low half = column i, high half = column L + i), so widening a step to two float
 * vectors is one shift and one mask. f16 and f32 weights are packed as float32.
 */
final class PackedWeights {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final int n, k, panels;
    final boolean bf16;
    final MemorySegment data;

    private PackedWeights(int n, int k, boolean bf16, MemorySegment data) {
        this.n = n;
        this.k = k;
        this.panels = (n + Gemm.NR - 1) / Gemm.NR;
        this.bf16 = bf16;
        this.data = data;
    }

    /** Bytes of one k step of one panel. */
    int stepBytes() {
        return Gemm.NR * (bf16 ? 2 : 4);
    }

    /** Byte offset of step k0 of panel p. */
    long offset(int p, int k0) {
        return ((long) p * k + k0) * stepBytes();
    }

    static PackedWeights pack(Tensor w) {
        int n = Math.toIntExact(w.dim(0)), k = Math.toIntExact(w.dim(1));
        boolean bf16 = w.dtype() == DType.BF16;
        final int NR = Gemm.NR, L = Gemm.L;
        int panels = (n + NR - 1) / NR;
        long bytes = (long) panels * k * NR * (bf16 ? 2 : 4);
        // Auto arena: the packed copy lives as long as the layer that holds it.
        MemorySegment data = Arena.ofAuto().allocate(bytes, 64);
        PackedWeights packed = new PackedWeights(n, k, bf16, data);
        Parallel.forEach(panels, p -> {
            int n0 = p * NR;
            if (bf16) {
                short[] row = new short[k], panel = new short[k * NR];
                for (int j = 0; j < Math.min(NR, n - n0); j++) {
                    MemorySegment.copy(w.data(), SHORT_LE, (long) (n0 + j) * k * 2, row, 0, k);
                    int lane = 2 * (j % L) + (j < L ? 0 : 1);
                    for (int kk = 0; kk < k; kk++) panel[kk * NR + lane] = row[kk];
                }
                MemorySegment.copy(panel, 0, data, SHORT_LE, packed.offset(p, 0), panel.length);
            } else {
                float[] row = new float[k], panel = new float[k * NR];
                for (int j = 0; j < Math.min(NR, n - n0); j++) {
                    Widen.read(w, (long) (n0 + j) * k, row, 0, k);
                    for (int kk = 0; kk < k; kk++) panel[kk * NR + j] = row[kk];
                }
                MemorySegment.copy(panel, 0, data, FLOAT_LE, packed.offset(p, 0), panel.length);
            }
        });
        return packed;
    }
}
