package org.ovis4j.core.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.tensor.Tensor;

/**
 * A Q8_0 weight matrix (int8 values, one scale per 32 inputs of each output) packed once into panel
 * order, at 1.125 bytes per weight. Each KC x NR block is dequantized into a float panel when the
 * GEMM reaches it; a task covers all rows of its columns, so that happens once per call.
 */
final class PackedQ8 implements MatmulBackend.Prepared, Gemm.PanelSource {
    private static final int NR = Gemm.NR, L = Gemm.L, BLOCK = Tensor.Q8_BLOCK;
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int n, k;
    /** values[((p·K) + kk)·NR + j] = W[p·NR + j, kk]. */
    private final MemorySegment values;
    /** scales[((p·K/32) + kk/32)·NR + j] = scale of W[p·NR + j, kk]. */
    private final MemorySegment scales;

    private PackedQ8(int n, int k, MemorySegment values, MemorySegment scales) {
        this.n = n;
        this.k = k;
        this.values = values;
        this.scales = scales;
    }

    static PackedQ8 pack(Tensor w) {
        int n = Math.toIntExact(w.dim(0)), k = Math.toIntExact(w.dim(1)), blocks = k / BLOCK;
        int panels = (n + NR - 1) / NR;
        Arena arena = Arena.ofAuto();
        MemorySegment values = arena.allocate((long) panels * k * NR, 64);
        MemorySegment scales = arena.allocate((long) panels * blocks * NR * 4, 64);
        Tensor s = w.blockScales();
        Parallel.forEach(panels, p -> {
            byte[] row = new byte[k], panel = new byte[k * NR];
            float[] srow = new float[blocks], spanel = new float[blocks * NR];
            for (int j = 0; j < Math.min(NR, n - p * NR); j++) {
                int r = p * NR + j;
                MemorySegment.copy(w.data(), ValueLayout.JAVA_BYTE, (long) r * k, row, 0, k);
                s.readFloats((long) r * blocks, srow, 0, blocks);
                for (int kk = 0; kk < k; kk++) panel[kk * NR + j] = row[kk];
                for (int b = 0; b < blocks; b++) spanel[b * NR + j] = srow[b];
            }
            MemorySegment.copy(panel, 0, values, ValueLayout.JAVA_BYTE, (long) p * k * NR, panel.length);
            MemorySegment.copy(spanel, 0, scales, FLOAT_LE, (long) p * blocks * NR * 4, spanel.length);
        });
        return new PackedQ8(n, k, values, scales);
    }

    @Override public int in() { return k; }
    @Override public int out() { return n; }

    @Override
    public void multiply(float[] x, int xOff, int ldx, int rows, float[] bias, float[] y, int ldy, int yOff, boolean accumulate) {
        Gemm.gemm(x, xOff, ldx, rows, k, this, n, bias, y, ldy, yOff, accumulate);
    }

    @Override
    public void pack(int n0, int nr, int k0, int kc, float[] panel, int off) {
        int p = n0 / NR;
        long vBase = ((long) p * k + k0) * NR, sBase = (long) p * (k / BLOCK) * NR * 4;
        for (int kk = 0; kk < kc; kk++) {
            long vAt = vBase + (long) kk * NR, sAt = sBase + (long) ((k0 + kk) / BLOCK) * NR * 4;
            int dst = off + kk * NR;
            if (Widen.INT8 != null) {
                for (int h = 0; h < NR; h += L)
                    Widen.int8ToFloats(values, vAt + h)
                            .mul(FloatVector.fromMemorySegment(Gemm.S, scales, sAt + 4L * h, ByteOrder.LITTLE_ENDIAN)).intoArray(panel, dst + h);
            } else {
                for (int j = 0; j < NR; j++)
                    panel[dst + j] = values.get(ValueLayout.JAVA_BYTE, vAt + j) * scales.get(FLOAT_LE, sAt + 4L * j);
            }
        }
    }
}
