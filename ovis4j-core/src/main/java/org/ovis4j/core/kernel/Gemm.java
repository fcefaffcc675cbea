package org.ovis4j.core.kernel;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
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
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int HIGH_HALF = 0xFFFF0000;
    /** Panel width: two vectors. */
    public static final int NR = 2 * L;
    static final int MR = 6;
    static final int KC = 256;
    /** Column panels per task: their KC block is 16 x 256 x 32 floats = 512 KiB at most, L2-resident. */
    static final int GROUP = 16;
    /** Rows per task: with KC, 192 x 256 floats = 192 KiB of A kept hot across the group's panels. */
    static final int MC = 192;

    private Gemm() {}

    /** Where the B operand's panels come from: weights of any dtype, or a float matrix. */
    public interface PanelSource {
        /**
         * Writes B(k0 + kk, n0 + j) to panel[off + kk * NR + j] for kk in [0, kc), j in [0, nr) (nr ≤ NR); columns
         * ≥ nr are zeroed.
         */
        void pack(int n0, int nr, int k0, int kc, float[] panel, int off);
    }

    /**
     * C[m*ldc + cOff + n] = (accumulate ? C : bias[n] or 0) + sum_k A[m*lda + k] * B(k, n), for m in [0, M), n in [0, N), k in [0, K).
     */
    public static void gemm(float[] a, int lda, int M, int K, PanelSource b, int N, float[] bias,
                            float[] c, int ldc, int cOff, boolean accumulate) {
        gemm(a, 0, lda, M, K, b, N, bias, c, ldc, cOff, accumulate);
    }

    /** As above with A starting at {@code aOff}: A[m, k] = a[aOff + m*lda + k]. */
    public static void gemm(float[] a, int aOff, int lda, int M, int K, PanelSource b, int N, float[] bias,
                            float[] c, int ldc, int cOff, boolean accumulate) {
        run(a, aOff, lda, M, K, b, null, N, bias, c, ldc, cOff, accumulate);
    }

    /** As above with B = Wᵀ for weights packed once ({@link PackedWeights}): nothing is packed per call. */
    static void gemm(float[] a, int aOff, int lda, int M, PackedWeights w, float[] bias,
                     float[] c, int ldc, int cOff, boolean accumulate) {
        run(a, aOff, lda, M, w.k, null, w, w.n, bias, c, ldc, cOff, accumulate);
    }

    private static void run(float[] a, int aOff, int lda, int M, int K, PanelSource source, PackedWeights packedB, int N,
                            float[] bias, float[] c, int ldc, int cOff, boolean accumulate) {
        if (M == 0 || N == 0) return;
        int panels = (N + NR - 1) / NR;
        // A task multiplies a chunk of at most MC rows by a group of panels, k block by k block: the
        // rows' KC slice (MC x KC floats) stays in L2 while it meets every panel of the group, and the
        // group's KC block of B (at most GROUP x KC x NR) is read once per chunk. Groups shrink only
        // to give every thread work.
        int mChunk = Math.min((M + MR - 1) / MR * MR, MC);
        int chunkCount = (M + mChunk - 1) / mChunk;
        int g0 = Math.min(GROUP, panels);
        while (g0 > 1 && chunkCount * ((panels + g0 - 1) / g0) < 2 * Parallel.threads()) g0 = (g0 + 1) / 2;
        int group = g0, groups = (panels + group - 1) / group;
        Parallel.forEach(groups * chunkCount, task -> {
            int g = task % groups, ch = task / groups;
            int p0 = g * group, p1 = Math.min(panels, p0 + group);
            int m0 = ch * mChunk, m1 = Math.min(M, m0 + mChunk);
            float[] tile = TILE.get();
            int nStart = p0 * NR, nEnd = Math.min(N, p1 * NR);
            for (int m = m0; m < m1; m++) {
                int row = m * ldc + cOff;
                if (!accumulate) {
                    if (bias != null) System.arraycopy(bias, nStart, c, row + nStart, nEnd - nStart);
                    else java.util.Arrays.fill(c, row + nStart, row + nEnd, 0f);
                }
            }
            MemorySegment seg;
            boolean bf16 = packedB != null && packedB.bf16;
            float[] panelsBuf = null;
            if (packedB != null) {
                seg = packedB.data;
            } else {
                panelsBuf = PANELS.get();
                seg = PANEL_SEGMENTS.get();
            }
            for (int k0 = 0; k0 < K; k0 += KC) {
                int kc = Math.min(KC, K - k0);
                if (packedB == null) {
                    for (int p = p0; p < p1; p++)
                        source.pack(p * NR, Math.min(NR, N - p * NR), k0, kc, panelsBuf, (p - p0) * KC * NR);
                    MemorySegment.copy(panelsBuf, 0, seg, FLOAT_LE, 0, (p1 - p0) * KC * NR);
                }
                int m = m0;
                for (; m < m1; m += MR) {
                    int rows = Math.min(MR, m1 - m);
                    for (int p = p0; p < p1; p++) {
                        long off = packedB != null ? packedB.offset(p, k0) : 4L * (p - p0) * KC * NR;
                        if (rows == MR) {
                            if (bf16) kernel6Bf16(a, aOff, lda, m, k0, kc, seg, off, tile);
                            else kernel6(a, aOff, lda, m, k0, kc, seg, off, tile);
                        } else {
                            for (int r = 0; r < rows; r++) {
                                if (bf16) kernel1Bf16(a, aOff, lda, m + r, k0, kc, seg, off, tile, r * NR);
                                else kernel1(a, aOff, lda, m + r, k0, kc, seg, off, tile, r * NR);
                            }
                        }
                        addTile(tile, rows, c, ldc, m, cOff + p * NR, Math.min(NR, N - p * NR));
                    }
                }
            }
        });
    }

    private static final ThreadLocal<float[]> PANELS = ThreadLocal.withInitial(() -> new float[GROUP * KC * NR]);
    /**
     * Where packed panels are copied for the micro-kernel. The kernels must only ever see native
     * segments: once a kernel's vector loads have met both heap and native segments, C2 no longer
     * intrinsifies them (the loads run as scalar Java code, ~5x slower), and they stay that way for
     * the process; seen as a VAE decode after a text encoder (heap panels) running 4x slower.
     */
    private static final ThreadLocal<MemorySegment> PANEL_SEGMENTS = ThreadLocal.withInitial(
            () -> java.lang.foreign.Arena.ofAuto().allocate(4L * GROUP * KC * NR, 64));
    private static final java.lang.foreign.ValueLayout.OfFloat FLOAT_LE =
            java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
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

    /**
     * Six rows by two float32 vectors from a panel of NR floats per k step: 12 accumulators, enough
     * independent FMAs to hide their latency.
     */
    private static void kernel6(float[] a, int aOff, int lda, int m, int k0, int kc, MemorySegment panel, long off, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        int a0 = aOff + m * lda + k0, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        long pb = off;
        for (int kk = 0; kk < kc; kk++, pb += 4L * NR) {
            FloatVector b0 = FloatVector.fromMemorySegment(S, panel, pb, LE);
            FloatVector b1 = FloatVector.fromMemorySegment(S, panel, pb + 4L * L, LE);
            FloatVector x = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[a1 + kk]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[a2 + kk]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[a3 + kk]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[a4 + kk]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[a5 + kk]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        store6(tile, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    /** As {@link #kernel6} from a packed bf16 panel: one 32-bit lane holds column i (low) and L + i (high). */
    private static void kernel6Bf16(float[] a, int aOff, int lda, int m, int k0, int kc, MemorySegment panel, long off, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        int a0 = aOff + m * lda + k0, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        long pb = off;
        for (int kk = 0; kk < kc; kk++, pb += 2L * NR) {
            IntVector pair = IntVector.fromMemorySegment(I, panel, pb, LE);
            FloatVector b0 = pair.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector b1 = pair.lanewise(VectorOperators.AND, HIGH_HALF).reinterpretAsFloats();
            FloatVector x = FloatVector.broadcast(S, a[a0 + kk]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[a1 + kk]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[a2 + kk]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[a3 + kk]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[a4 + kk]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[a5 + kk]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        store6(tile, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    private static void store6(float[] tile, FloatVector c00, FloatVector c01, FloatVector c10, FloatVector c11,
                               FloatVector c20, FloatVector c21, FloatVector c30, FloatVector c31,
                               FloatVector c40, FloatVector c41, FloatVector c50, FloatVector c51) {
        c00.intoArray(tile, 0); c01.intoArray(tile, L);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + L);
    }

    private static void kernel1(float[] a, int aOff, int lda, int m, int k0, int kc, MemorySegment panel, long off,
                                float[] tile, int tOff) {
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        int a0 = aOff + m * lda + k0;
        long pb = off;
        for (int kk = 0; kk < kc; kk++, pb += 4L * NR) {
            FloatVector x = FloatVector.broadcast(S, a[a0 + kk]);
            c0 = x.fma(FloatVector.fromMemorySegment(S, panel, pb, LE), c0);
            c1 = x.fma(FloatVector.fromMemorySegment(S, panel, pb + 4L * L, LE), c1);
        }
        c0.intoArray(tile, tOff);
        c1.intoArray(tile, tOff + L);
    }

    private static void kernel1Bf16(float[] a, int aOff, int lda, int m, int k0, int kc, MemorySegment panel, long off,
                                    float[] tile, int tOff) {
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
        int a0 = aOff + m * lda + k0;
        long pb = off;
        for (int kk = 0; kk < kc; kk++, pb += 2L * NR) {
            IntVector pair = IntVector.fromMemorySegment(I, panel, pb, LE);
            FloatVector x = FloatVector.broadcast(S, a[a0 + kk]);
            c0 = x.fma(pair.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats(), c0);
            c1 = x.fma(pair.lanewise(VectorOperators.AND, HIGH_HALF).reinterpretAsFloats(), c1);
        }
        c0.intoArray(tile, tOff);
        c1.intoArray(tile, tOff + L);
    }
}
