package org.ovis4j.core.kernel;

import java.util.Arrays;
import org.ovis4j.core.tensor.Tensor;

/**
 * {@link Gemm.PanelSource}s over a stored weight matrix W [N, K] (f32, bf16, f16 or Q8_0, typically
 * memory-mapped from a checkpoint), read where it is: each block is widened to float32 ({@link Widen})
 * only when the GEMM packs it, so a weight that never changes (a frozen base under LoRA, a layer run on
 * few rows) costs no float copy. The panels hold exactly the widened values, so a product is bit-identical
 * to the same product over the widened matrix through {@link FloatPanels}.
 */
public final class TensorPanels {
    private TensorPanels() {}

    /** B(k, n) = W[n, k]: Wᵀ for y = x·Wᵀ (K = W's columns, N = its rows). */
    public static Gemm.PanelSource transposed(Tensor w) {
        return new Transposed(w, Math.toIntExact(w.dim(1)));
    }

    /** B(k, n) = W[k, n]: W itself, for dX = dY·W (K = W's rows, N = its columns). */
    public static Gemm.PanelSource rowMajor(Tensor w) {
        return new RowMajor(w, Math.toIntExact(w.dim(1)));
    }

    /** Per thread: one widened stretch of a row. */
    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[Gemm.KC]);

    private record Transposed(Tensor w, int k) implements Gemm.PanelSource {
        @Override
        public void pack(int n0, int nr, int k0, int kc, float[] panel, int off) {
            final int NR = Gemm.NR;
            float[] row = ROW.get();
            // KC steps at a time (a packed source asks for all K at once): that part of the panel,
            // KC x NR floats, stays in L1 while its NR columns are written one by one.
            for (int s = 0; s < kc; s += Gemm.KC) {
                int len = Math.min(Gemm.KC, kc - s), base = off + s * NR;
                for (int j = 0; j < nr; j++) {
                    Widen.read(w, (long) (n0 + j) * k + k0 + s, row, 0, len);
                    for (int kk = 0; kk < len; kk++) panel[base + kk * NR + j] = row[kk];
                }
                for (int j = nr; j < NR; j++)
                    for (int kk = 0; kk < len; kk++) panel[base + kk * NR + j] = 0f;
            }
        }
    }

    private record RowMajor(Tensor w, int n) implements Gemm.PanelSource {
        @Override
        public void pack(int n0, int nr, int k0, int kc, float[] panel, int off) {
            final int NR = Gemm.NR;
            for (int kk = 0; kk < kc; kk++) {
                int dst = off + kk * NR;
                Widen.read(w, (long) (k0 + kk) * n + n0, panel, dst, nr);
                if (nr < NR) Arrays.fill(panel, dst + nr, dst + NR, 0f);
            }
        }
    }
}
