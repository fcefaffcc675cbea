package org.ovis4j.train.ops;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.kernel.Gemm;

/**
 * Float32 matrices as the B operand of {@link Gemm}: training multiplies by weights that change
 * every step and by activations, so nothing is packed ahead; the GEMM packs each KC x NR block when
 * it needs it. Kept here until the core offers the same (another training engineer may need it too).
 */
final class MatrixPanels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private MatrixPanels() {}

    /** B(k, n) = b[off + k·ld + n]: a matrix stored [K, N] row-major (e.g. W [out, in] as B = W for dX = dY·W). */
    static Gemm.PanelSource rowMajor(float[] b, int off, int ld) {
        return (n0, nr, k0, kc, panel, pOff) -> {
            if (nr == Gemm.NR && Gemm.NR == 2 * L) {
                // Full panels (nearly all): two vector copies per row beat a call to arraycopy.
                for (int kk = 0; kk < kc; kk++) {
                    int src = off + (k0 + kk) * ld + n0, dst = pOff + kk * Gemm.NR;
                    FloatVector.fromArray(S, b, src).intoArray(panel, dst);
                    FloatVector.fromArray(S, b, src + L).intoArray(panel, dst + L);
                }
                return;
            }
            for (int kk = 0; kk < kc; kk++) {
                int dst = pOff + kk * Gemm.NR;
                System.arraycopy(b, off + (k0 + kk) * ld + n0, panel, dst, nr);
                if (nr < Gemm.NR) Arrays.fill(panel, dst + nr, dst + Gemm.NR, 0f);
            }
        };
    }

    /** B(k, n) = b[off + n·ld + k]: the transpose of a matrix stored [N, K] (B = Wᵀ for y = x·Wᵀ). */
    static Gemm.PanelSource transposed(float[] b, int off, int ld) {
        return (n0, nr, k0, kc, panel, pOff) -> {
            for (int j = 0; j < nr; j++) {
                int src = off + (n0 + j) * ld + k0;
                for (int kk = 0; kk < kc; kk++) panel[pOff + kk * Gemm.NR + j] = b[src + kk];
            }
            for (int j = nr; j < Gemm.NR; j++)
                for (int kk = 0; kk < kc; kk++) panel[pOff + kk * Gemm.NR + j] = 0f;
        };
    }
}
