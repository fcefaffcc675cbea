package org.ovis4j.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.parallel.Parallel;

/**
 * C[m, n] (+)= sum_k A[m, k] * B(k, n): the one matrix multiply every model layer goes through.
 *
 * <p>A is float32 activations, row-major. B comes from a {@link PanelSource}, which widens and
 * transposes a KC x NR block of the weights into a small float panel; the micro-kernel then
 * broadcasts A elements against NR-wide vectors of the panel, so no horizontal sums are needed.
 * Work is split over (column panel, row chunk) pairs.
 */
public final class Gemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /** Panel width: two vectors. */
    public static final int NR = 2 * L;
    static final int MR = 4;
    static final int KC = 256;
    static final int MC = 128;

    private Gemm() {}

    /** Where the B operand's panels come from: weights of any dtype, or a float matrix. */
    public interface PanelSource {
        /** Writes B(k0 + kk, n0 + j) to panel[kk * NR + j] for kk < kc, j < nr (nr ≤ NR); columns ≥ nr are zeroed. */
        void pack(int n0, int nr, int k0, int kc, float[] panel);
    }

    /**
     * C[m*ldc + cOff + n] = (accumulate ? C : bias[n] or 0) + sum_k A[m*lda + k] * B(k, n), for m < M, n < N, k < K.
     */
    public static void gemm(float[] a, int lda, int M, int K, PanelSource b, int N, float[] bias,
                            float[] c, int ldc, int cOff, boolean accumulate) {
        gemm(a, 0, lda, M, K, b, N, bias, c, ldc, cOff, accumulate);
    }

    /** As above with A starting at {@code aOff}: A[m, k] = a[aOff + m*lda + k]. */
    public static void gemm(float[] a, int aOff, int lda, int M, int K, PanelSource b, int N, float[] bias,
                            float[] c, int ldc, int cOff, boolean accumulate) {
        if (M == 0 || N == 0) return;
        int panels = (N + NR - 1) / NR;
        int mChunk = M <= MC ? M : MC;
        int chunks = (M + mChunk - 1) / mChunk;
        Parallel.forEach(panels * chunks, task -> {
            int p = task % panels, ch = task / panels;
            int n0 = p * NR, nr = Math.min(NR, N - n0);
            int m0 = ch * mChunk, m1 = Math.min(M, m0 + mChunk);
            float[] panel = PANEL.get();
            float[] tile = TILE.get();
            for (int m = m0; m < m1; m++) {
                int row = m * ldc + cOff + n0;
                if (!accumulate) {
                    if (bias != null) System.arraycopy(bias, n0, c, row, nr);
                    else java.util.Arrays.fill(c, row, row + nr, 0f);
                }
            }
            for (int k0 = 0; k0 < K; k0 += KC) {
                int kc = Math.min(KC, K - k0);
                b.pack(n0, nr, k0, kc, panel);
                int m = m0;
                for (; m + MR <= m1; m += MR) {
                    kernel4(a, aOff, lda, m, k0, kc, panel, tile);
                    addTile(tile, MR, c, ldc, m, cOff + n0, nr);
                }
                for (; m < m1; m++) {
                    kernel1(a, aOff, lda, m, k0, kc, panel, tile);
                    addTile(tile, 1, c, ldc, m, cOff + n0, nr);
                }
            }
        });
    }

    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[KC * NR]);
    private static final ThreadLocal<float[]> TILE = ThreadLocal.withInitial(() -> new float[MR * NR]);

    private static void addTile(float[] tile, int rows, float[] c, int ldc, int m, int col, int nr) {
        for (int r = 0; r < rows; r++) {
            int base = (m + r) * ldc + col;
            int t = r * NR;
            int j = 0;
            if (nr == NR) {
                for (; j < NR; j += L) {
                    FloatVector.fromArray(S, c, base + j).add(FloatVector.fromArray(S, tile, t + j)).intoArray(c, base + j);
                }
            } else {
                for (; j < nr; j++) c[base + j] += tile[t + j];
            }
        }
    }

    private static void kernel4(float[] a, int aOff, int lda, int m, int k0, int kc, float[] panel, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        int a0 = aOff + m * lda + k0, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int kk = 0, pb = 0; kk < kc; kk++, pb += NR) {
            FloatVector b0 = FloatVector.fromArray(S, panel, pb);
            FloatVector b1 = FloatVector.fromArray(S, panel, pb + L);
            FloatVector x = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[a1 + kk]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[a2 + kk]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[a3 + kk]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, L);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + L);
    }

    private static void kernel1(float[] a, int aOff, int lda, int m, int k0, int kc, float[] panel, float[] tile) {
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        int a0 = aOff + m * lda + k0;
        for (int kk = 0, pb = 0; kk < kc; kk++, pb += NR) {
            FloatVector x = FloatVector.broadcast(S, a[a0 + kk]);
            c0 = x.fma(FloatVector.fromArray(S, panel, pb), c0);
            c1 = x.fma(FloatVector.fromArray(S, panel, pb + L), c1);
        }
        c0.intoArray(tile, 0);
        c1.intoArray(tile, L);
    }

    /** B given as a float matrix stored [K, N] row-major (e.g. attention values, im2col columns). */
    public static PanelSource rowMajorKN(float[] b, int ldb) {
        return (n0, nr, k0, kc, panel) -> {
            for (int kk = 0; kk < kc; kk++) {
                int src = (k0 + kk) * ldb + n0, dst = kk * NR;
                System.arraycopy(b, src, panel, dst, nr);
                if (nr < NR) java.util.Arrays.fill(panel, dst + nr, dst + NR, 0f);
            }
        };
    }

    /** B given as a float matrix stored [N, K] row-major, i.e. B(k, n) = b[n*ldb + k]. */
    public static PanelSource rowMajorNK(float[] b, int ldb) {
        return (n0, nr, k0, kc, panel) -> {
            for (int j = 0; j < NR; j++) {
                if (j < nr) {
                    int src = (n0 + j) * ldb + k0;
                    for (int kk = 0; kk < kc; kk++) panel[kk * NR + j] = b[src + kk];
                } else {
                    for (int kk = 0; kk < kc; kk++) panel[kk * NR + j] = 0f;
                }
            }
        };
    }
}
