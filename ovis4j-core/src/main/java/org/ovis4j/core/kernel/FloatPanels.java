package org.ovis4j.core.kernel;

import java.util.Arrays;

/**
 * {@link Gemm.PanelSource}s over plain float32 matrices on the heap: what backward passes multiply
 * by (a weight W [out, in] as Wᵀ or as W, a batch of activations as it is), so that training goes
 * through the same GEMM as inference instead of a second one.
 */
public final class FloatPanels {
    private FloatPanels() {}

    /** B(k, n) = m[off + k·ld + n]: a row-major K x N matrix (W [out, in] in dX = dY·W; X in dW = dYᵀ·X). */
    public static Gemm.PanelSource rowMajor(float[] m, int off, int ld) {
        return new RowMajor(m, off, ld);
    }

    /** B(k, n) = m[off + n·ld + k]: the transpose of a row-major N x K matrix (Wᵀ in y = x·Wᵀ). */
    public static Gemm.PanelSource transposed(float[] m, int off, int ld) {
        return new Transposed(m, off, ld);
    }

    private record RowMajor(float[] m, int off, int ld) implements Gemm.PanelSource {
        @Override
        public void pack(int n0, int nr, int k0, int kc, float[] panel, int pOff) {
            final int NR = Gemm.NR;
            for (int kk = 0; kk < kc; kk++) {
                int dst = pOff + kk * NR;
                System.arraycopy(m, off + (k0 + kk) * ld + n0, panel, dst, nr);
                if (nr < NR) Arrays.fill(panel, dst + nr, dst + NR, 0f);
            }
        }
    }

    private record Transposed(float[] m, int off, int ld) implements Gemm.PanelSource {
        @Override
        public void pack(int n0, int nr, int k0, int kc, float[] panel, int pOff) {
            final int NR = Gemm.NR;
            for (int j = 0; j < NR; j++) {
                if (j < nr) {
                    int src = off + (n0 + j) * ld + k0;
                    for (int kk = 0; kk < kc; kk++) panel[pOff + kk * NR + j] = m[src + kk];
                } else {
                    for (int kk = 0; kk < kc; kk++) panel[pOff + kk * NR + j] = 0f;
                }
            }
        }
    }
}
