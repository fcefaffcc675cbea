package org.ovis4j.core.kernel;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.parallel.Parallel;

/**
 * {@link Gemm.PanelSource}s over plain float32 matrices on the heap: what backward passes multiply
 * by (a weight W [out, in] as Wᵀ or as W, a batch of activations as it is), so that training goes
 * through the same GEMM as inference instead of a second one.
 */
public final class FloatPanels {
    private static final VectorSpecies<Float> S = Gemm.S;
    private static final int L = Gemm.L;

    private FloatPanels() {}

    /** B(k, n) = m[off + k·ld + n]: a row-major K x N matrix (W [out, in] in dX = dY·W; X in dW = dYᵀ·X). */
    public static Gemm.PanelSource rowMajor(float[] m, int off, int ld) {
        return new RowMajor(m, off, ld);
    }

    /** B(k, n) = m[off + n·ld + k]: the transpose of a row-major N x K matrix (Wᵀ in y = x·Wᵀ). */
    public static Gemm.PanelSource transposed(float[] m, int off, int ld) {
        return new Transposed(m, off, ld);
    }

    /**
     * The source for a product whose A has m rows: {@code source} (B of K x N) packed once up front into
     * the GEMM's panel order when the GEMM would otherwise pack it again for every block of
     * rows of A (192; then each block's packing is one contiguous copy); else the source itself.
     */
    public static Gemm.PanelSource forRows(int m, Gemm.PanelSource source, int k, int n) {
        return m > Gemm.MC ? packed(source, k, n) : source;
    }

    /** {@code source} (K x N) packed once: panel after panel of NR columns, K steps of NR values each. */
    public static Gemm.PanelSource packed(Gemm.PanelSource source, int k, int n) {
        final int NR = Gemm.NR;
        int panels = (n + NR - 1) / NR;
        float[] data = new float[Math.multiplyExact(panels, k * NR)];
        Parallel.forEach(panels, p -> source.pack(p * NR, Math.min(NR, n - p * NR), 0, k, data, p * k * NR));
        return new Packed(data, k);
    }

    private record Packed(float[] data, int k) implements Gemm.PanelSource {
        @Override
        public void pack(int n0, int nr, int k0, int kc, float[] panel, int pOff) {
            // n0 is a multiple of NR: the GEMM asks for whole panels
            System.arraycopy(data, ((n0 / Gemm.NR) * k + k0) * Gemm.NR, panel, pOff, kc * Gemm.NR);
        }
    }

    private record RowMajor(float[] m, int off, int ld) implements Gemm.PanelSource {
        @Override
        public void pack(int n0, int nr, int k0, int kc, float[] panel, int pOff) {
            final int NR = Gemm.NR;
            if (nr == NR) {
                // Full panels (nearly all): two vector copies per row beat a call to arraycopy (NR = 2 vectors).
                for (int kk = 0; kk < kc; kk++) {
                    int src = off + (k0 + kk) * ld + n0, dst = pOff + kk * NR;
                    FloatVector.fromArray(S, m, src).intoArray(panel, dst);
                    FloatVector.fromArray(S, m, src + L).intoArray(panel, dst + L);
                }
                return;
            }
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
            // KC steps at a time (a packed source asks for all K at once): that part of the panel,
            // KC x NR floats, stays in L1 while its NR columns are written one by one.
            for (int s = 0; s < kc; s += Gemm.KC) {
                int len = Math.min(Gemm.KC, kc - s), base = pOff + s * NR;
                for (int j = 0; j < nr; j++) {
                    int src = off + (n0 + j) * ld + k0 + s;
                    for (int kk = 0; kk < len; kk++) panel[base + kk * NR + j] = m[src + kk];
                }
                for (int j = nr; j < NR; j++)
                    for (int kk = 0; kk < len; kk++) panel[base + kk * NR + j] = 0f;
            }
        }
    }
}
