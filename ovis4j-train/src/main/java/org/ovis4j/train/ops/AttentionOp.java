package org.ovis4j.train.ops;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.kernel.Attention;
import org.ovis4j.core.kernel.VectorMath;
import org.ovis4j.core.parallel.Parallel;

/**
 * Multi-head attention, forward and backward side by side: without mask, the MMDiT's joint attention over
 * each sample's [text; image] rows and the VAE mid-block's one-head self-attention; causal and grouped-query
 * (several query heads per key/value head), the Qwen3 text encoder's self-attention.
 *
 * <p>The forward is the inference kernel ({@link Attention#attendJava}), which also writes each query row's
 * log-sum-exp, so training differentiates exactly the attention that generation runs.
 *
 * <p>The backward is FlashAttention-2's. With P = exp(scale·Q·Kᵀ − lse) and D = rowsum(dO ∘ O):
 * dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ∘ (dP − D), dQ = scale·dS·K, dK = scale·dSᵀ·Q. P and dP are recomputed
 * per tile of QB queries x KB keys and never held beyond one tile per thread. The outer loop runs over key
 * blocks, so a task owns the dK and dV rows of its keys and accumulates them in its tile; dQ sums over
 * every key block instead. A task is (sample, head, key chunk): when sample x head pairs are many (the MMDiT's
 * 24 heads) a chunk is all keys and the task adds into dQ directly, keys in order. When they are few (the
 * VAE's one head) the keys are split into chunks, the first chunk adds into dQ and each other one into its
 * own copy of dQ (at most 15·len·headDim floats in all: 120 MiB for the VAE's 4096 x 512), and the copies
 * are added in chunk order afterwards. The chunk count depends on the shape only, never on the thread
 * count or on which thread ran what, so the gradients have the same bits for any thread count. (The
 * alternative, a second pass for dQ over query blocks, needs no copies but recomputes P and dP: seven tile
 * products instead of five.)
 */
public final class AttentionOp {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Queries and keys of one backward tile; KB is a multiple of two vectors, to which a key block's scores are padded. */
    private static final int QB = 64, KB = 64;
    /**
     * Sample x head x chunk tasks the backward aims for when sample x head pairs are few: enough for 16
     * threads. A constant, not the pool's size, because the chunking decides the order of dQ's sums.
     */
    private static final int TASKS = 16;

    static {
        if (KB % (2 * L) != 0) throw new AssertionError("KB must be a multiple of two vectors");
    }

    private AttentionOp() {}

    /** The softmax scale, computed as inference computes it. */
    private static float scale(int headDim) {
        return (float) (1.0 / Math.sqrt(headDim));
    }

    /**
     * Multi-head attention without mask, softmax scale 1/sqrt(headDim). q, k, v, out: [samples * len, heads * headDim]
     * row-major (head h = columns h*headDim ... h*headDim+headDim-1 of each row; each sample's len rows attend only
     * among themselves). lse: [samples * heads * len], the log-sum-exp of each query row's scaled scores, saved for backward.
     */
    public static void forward(float[] q, float[] k, float[] v, int samples, int len, int heads, int headDim, float[] out,
                               float[] lse) {
        forward(q, k, v, samples, len, heads, heads, headDim, false, out, lse);
    }

    /**
     * As above with grouped-query attention and an optional causal mask (Qwen3's self-attention): k and v are
     * [samples * len, kvHeads * headDim], query head h reads kv head h / (heads / kvHeads); with {@code causal}
     * query i sees keys 0..i only.
     */
    public static void forward(float[] q, float[] k, float[] v, int samples, int len, int heads, int kvHeads, int headDim,
                               boolean causal, float[] out, float[] lse) {
        check(samples, len, heads, kvHeads, headDim, lse, new float[][] {q, out}, new float[][] {k, v});
        float scale = scale(headDim);
        Attention.attendJava(q, 0, heads * headDim, k, 0, kvHeads * headDim, v, 0, kvHeads * headDim, out, 0, heads * headDim,
                samples, len, len, heads, kvHeads, headDim, scale, causal, len, lse, 0);
    }

    /** Gradients of the above; dq, dk, dv are overwritten (same layout as q, k, v). out and lse are forward's. */
    public static void backward(float[] q, float[] k, float[] v, float[] out, float[] lse, float[] dOut,
                                int samples, int len, int heads, int headDim, float[] dq, float[] dk, float[] dv) {
        backward(q, k, v, out, lse, dOut, samples, len, heads, heads, headDim, false, dq, dk, dv);
    }

    /**
     * Gradients of the grouped-query, optionally causal forward. A task owns one kv head's key block and runs
     * the queries of every head of its group against it, so dK and dV sum over the group in the tile (query
     * heads in order, then query blocks in order) and are written once. Under the causal mask a key block
     * meets only the query blocks from its own diagonal on, and the probabilities of keys after their query
     * are zero (so are their dS).
     */
    public static void backward(float[] q, float[] k, float[] v, float[] out, float[] lse, float[] dOut,
                                int samples, int len, int heads, int kvHeads, int headDim, boolean causal,
                                float[] dq, float[] dk, float[] dv) {
        check(samples, len, heads, kvHeads, headDim, lse, new float[][] {q, out, dOut, dq}, new float[][] {k, v, dk, dv});
        int d = headDim, ld = heads * d, ldkv = kvHeads * d, n = samples * len * ld, group = kvHeads == 0 ? 0 : heads / kvHeads;
        float scale = scale(headDim);
        if (n == 0) return;

        // D_i = rowsum(dO_i ∘ O_i) per (sample, head, query), in lse's layout.
        float[] delta = new float[samples * heads * len];
        int rowBlocks = (samples * len + QB - 1) / QB;
        Parallel.forEach(rowBlocks, b -> {
            for (int row = b * QB, end = Math.min(samples * len, row + QB); row < end; row++) {
                int s = row / len, i = row % len;
                for (int h = 0; h < heads; h++)
                    delta[(s * heads + h) * len + i] = dot(dOut, out, row * ld + h * d, d);
            }
        });

        int keyBlocks = (len + KB - 1) / KB;
        int pairs = samples * kvHeads;
        // (The copies of dQ must fit one array; a shape this large has pairs enough anyway.)
        int chunks = Math.min(Math.min(keyBlocks, Math.max(1, (TASKS + pairs - 1) / pairs)), Integer.MAX_VALUE / n);
        // Chunk 0 adds into dQ itself, chunk c > 0 into its copy partial[(c-1)*n ...], laid out as dQ.
        float[] partial = chunks == 1 ? null : new float[(chunks - 1) * n];
        Arrays.fill(dq, 0, n, 0f);
        Parallel.forEach(pairs * chunks, task -> {
            int c = task % chunks, s = task / chunks / kvHeads, kvh = task / chunks % kvHeads;
            int kvBase = s * len * ldkv + kvh * d;
            float[] dqSum = c == 0 ? dq : partial;
            int dqShift = c == 0 ? 0 : (c - 1) * n;
            Tile t = TILES.get().fit(d);
            for (int kb = c * keyBlocks / chunks, kbEnd = (c + 1) * keyBlocks / chunks; kb < kbEnd; kb++) {
                int j0 = kb * KB, jn = Math.min(KB, len - j0), jp = (jn + 2 * L - 1) / (2 * L) * (2 * L);
                int kv = kvBase + j0 * ldkv;
                transpose(k, kv, ldkv, jn, jp, d, t.kt);
                transpose(v, kv, ldkv, jn, jp, d, t.vt);
                gather(k, kv, ldkv, jn, d, t.kj);
                Arrays.fill(t.dk, 0, jn * d, 0f);
                Arrays.fill(t.dv, 0, jn * d, 0f);
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    int base = s * len * ld + h * d, stat = (s * heads + h) * len;
                    // Causal: queries before the block's first key see none of it.
                    for (int i0 = causal ? j0 / QB * QB : 0; i0 < len; i0 += QB) {
                        int rows = Math.min(QB, len - i0), qi = base + i0 * ld;
                        gather(q, qi, ld, rows, d, t.qi);
                        gather(dOut, qi, ld, rows, d, t.gi);
                        // S = Q_i·K_jᵀ, then P = exp(scale·S − lse) (0 where the mask hides the key).
                        Arrays.fill(t.p, 0, rows * KB, 0f);
                        mulAdd(t.qi, 0, d, 1, rows, d, t.kt, 0, KB, jp, t.p, 0, KB);
                        probabilities(t.p, rows, jn, jp, scale, lse, stat + i0, causal ? i0 - j0 : Integer.MAX_VALUE / 2);
                        // dP = dO_i·V_jᵀ, then dS = scale·P ∘ (dP − D).
                        Arrays.fill(t.ds, 0, rows * KB, 0f);
                        mulAdd(t.gi, 0, d, 1, rows, d, t.vt, 0, KB, jp, t.ds, 0, KB);
                        scoreGradients(t.p, t.ds, rows, jp, scale, delta, stat + i0);
                        // dV_j += Pᵀ·dO_i, dK_j += dSᵀ·Q_i, dQ_i += dS·K_j.
                        mulAdd(t.p, 0, 1, KB, jn, rows, t.gi, 0, d, d, t.dv, 0, d);
                        mulAdd(t.ds, 0, 1, KB, jn, rows, t.qi, 0, d, d, t.dk, 0, d);
                        mulAdd(t.ds, 0, KB, 1, rows, jn, t.kj, 0, d, d, dqSum, dqShift + qi, ld);
                    }
                }
                for (int j = 0; j < jn; j++) {
                    System.arraycopy(t.dk, j * d, dk, kv + j * ldkv, d);
                    System.arraycopy(t.dv, j * d, dv, kv + j * ldkv, d);
                }
            }
        });
        if (chunks > 1) {
            // dQ = chunk 0's + chunk 1's + ..., chunks in order whatever thread summed the block.
            int span = QB * ld;
            Parallel.forEach((n + span - 1) / span, b -> {
                int from = b * span, to = Math.min(n, from + span);
                for (int c = 1; c < chunks; c++) {
                    int x = from, off = (c - 1) * n;
                    for (; x + L <= to; x += L)
                        FloatVector.fromArray(S, dq, x).add(FloatVector.fromArray(S, partial, off + x)).intoArray(dq, x);
                    for (; x < to; x++) dq[x] += partial[off + x];
                }
            });
        }
    }

    /** Σ_t a[off + t]·b[off + t] for t < d, lanes summed in a fixed order (so compiled and interpreted code agree). */
    private static float dot(float[] a, float[] b, int off, int d) {
        FloatVector acc = FloatVector.zero(S);
        int t = 0;
        for (; t + L <= d; t += L) acc = FloatVector.fromArray(S, a, off + t).fma(FloatVector.fromArray(S, b, off + t), acc);
        float sum = VectorMath.sumLanes(acc);
        for (; t < d; t++) sum += a[off + t] * b[off + t];
        return sum;
    }

    /**
     * The rows of one head of a block, made contiguous: dst[j*d + t] = m[off + j*ld + t]. Rows of the real
     * model are 24·128 floats = 12 KiB apart, a multiple of 4 KiB, so a block's rows read in place would all
     * fall in the same few L1 sets and evict each other.
     */
    private static void gather(float[] m, int off, int ld, int rows, int d, float[] dst) {
        for (int j = 0; j < rows; j++) System.arraycopy(m, off + j * ld, dst, j * d, d);
    }

    /** mt[t*KB + j] = m[off + j*ld + t] for j < jn, and 0 for jn ≤ j < jp, so that padded keys score 0 (and stay finite). */
    private static void transpose(float[] m, int off, int ld, int jn, int jp, int d, float[] mt) {
        for (int j = 0; j < jn; j++)
            for (int t = 0, src = off + j * ld; t < d; t++) mt[t * KB + j] = m[src + t];
        if (jp > jn) for (int t = 0; t < d; t++) Arrays.fill(mt, t * KB + jn, t * KB + jp, 0f);
    }

    /**
     * Scores to probabilities in place: p = exp(scale·s − lse) for keys j < jn, and 0 for the padding up to jp
     * and for the keys a causal mask hides: row r sees keys j ≤ r + {@code diagonal} (diagonal = first query
     * minus first key of the tile; a huge value for no mask).
     */
    private static void probabilities(float[] p, int rows, int jn, int jp, float scale, float[] lse, int lseOff, int diagonal) {
        for (int r = 0; r < rows; r++) {
            FloatVector m = FloatVector.broadcast(S, lse[lseOff + r]);
            for (int j = r * KB, e = j + jp; j < e; j += L)
                VectorMath.expNonPositive(FloatVector.fromArray(S, p, j).mul(scale).sub(m)).intoArray(p, j);
            int visible = Math.max(0, Math.min(jn, r + diagonal + 1));
            Arrays.fill(p, r * KB + visible, r * KB + jp, 0f);
        }
    }

    /** dP to dS in place: ds = scale·p·(dp − D_r); zero where p is (the padding). */
    private static void scoreGradients(float[] p, float[] ds, int rows, int jp, float scale, float[] delta, int deltaOff) {
        for (int r = 0; r < rows; r++) {
            FloatVector dr = FloatVector.broadcast(S, delta[deltaOff + r]);
            for (int j = r * KB, e = j + jp; j < e; j += L) {
                FloatVector pv = FloatVector.fromArray(S, p, j);
                pv.mul(FloatVector.fromArray(S, ds, j).sub(dr)).mul(scale).intoArray(ds, j);
            }
        }
    }

    /**
     * c[cOff + x*ldc + t] += Σ_{y < yn} a[aOff + x*ax + y*ay] · b[bOff + y*ldb + t] for x < xn, t < cols: the
     * one tile product of the backward. Strides (ax, ay) read a tile either way round, so the same code forms
     * Q·Kᵀ (from Kᵀ), Pᵀ·dO and dS·K. Four rows of c and four vectors of columns stay in registers while y runs,
     * so four loads of b and four broadcasts of a feed sixteen FMAs (then two vectors, one, and single columns
     * for what is left); every sum over y runs in order, the same bits on any thread.
     */
    private static void mulAdd(float[] a, int aOff, int ax, int ay, int xn, int yn, float[] b, int bOff, int ldb, int cols,
                               float[] c, int cOff, int ldc) {
        int x = 0;
        for (; x + 4 <= xn; x += 4) {
            int a0 = aOff + x * ax, a1 = a0 + ax, a2 = a1 + ax, a3 = a2 + ax;
            int c0 = cOff + x * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
            int t = 0;
            for (; t + 4 * L <= cols; t += 4 * L) {
                FloatVector x0 = FloatVector.fromArray(S, c, c0 + t), y0 = FloatVector.fromArray(S, c, c0 + t + L);
                FloatVector z0 = FloatVector.fromArray(S, c, c0 + t + 2 * L), w0 = FloatVector.fromArray(S, c, c0 + t + 3 * L);
                FloatVector x1 = FloatVector.fromArray(S, c, c1 + t), y1 = FloatVector.fromArray(S, c, c1 + t + L);
                FloatVector z1 = FloatVector.fromArray(S, c, c1 + t + 2 * L), w1 = FloatVector.fromArray(S, c, c1 + t + 3 * L);
                FloatVector x2 = FloatVector.fromArray(S, c, c2 + t), y2 = FloatVector.fromArray(S, c, c2 + t + L);
                FloatVector z2 = FloatVector.fromArray(S, c, c2 + t + 2 * L), w2 = FloatVector.fromArray(S, c, c2 + t + 3 * L);
                FloatVector x3 = FloatVector.fromArray(S, c, c3 + t), y3 = FloatVector.fromArray(S, c, c3 + t + L);
                FloatVector z3 = FloatVector.fromArray(S, c, c3 + t + 2 * L), w3 = FloatVector.fromArray(S, c, c3 + t + 3 * L);
                for (int y = 0, ya = 0, yb = bOff + t; y < yn; y++, ya += ay, yb += ldb) {
                    FloatVector b0 = FloatVector.fromArray(S, b, yb), b1 = FloatVector.fromArray(S, b, yb + L);
                    FloatVector b2 = FloatVector.fromArray(S, b, yb + 2 * L), b3 = FloatVector.fromArray(S, b, yb + 3 * L);
                    FloatVector w = FloatVector.broadcast(S, a[a0 + ya]);
                    x0 = w.fma(b0, x0); y0 = w.fma(b1, y0); z0 = w.fma(b2, z0); w0 = w.fma(b3, w0);
                    w = FloatVector.broadcast(S, a[a1 + ya]);
                    x1 = w.fma(b0, x1); y1 = w.fma(b1, y1); z1 = w.fma(b2, z1); w1 = w.fma(b3, w1);
                    w = FloatVector.broadcast(S, a[a2 + ya]);
                    x2 = w.fma(b0, x2); y2 = w.fma(b1, y2); z2 = w.fma(b2, z2); w2 = w.fma(b3, w2);
                    w = FloatVector.broadcast(S, a[a3 + ya]);
                    x3 = w.fma(b0, x3); y3 = w.fma(b1, y3); z3 = w.fma(b2, z3); w3 = w.fma(b3, w3);
                }
                x0.intoArray(c, c0 + t); y0.intoArray(c, c0 + t + L); z0.intoArray(c, c0 + t + 2 * L); w0.intoArray(c, c0 + t + 3 * L);
                x1.intoArray(c, c1 + t); y1.intoArray(c, c1 + t + L); z1.intoArray(c, c1 + t + 2 * L); w1.intoArray(c, c1 + t + 3 * L);
                x2.intoArray(c, c2 + t); y2.intoArray(c, c2 + t + L); z2.intoArray(c, c2 + t + 2 * L); w2.intoArray(c, c2 + t + 3 * L);
                x3.intoArray(c, c3 + t); y3.intoArray(c, c3 + t + L); z3.intoArray(c, c3 + t + 2 * L); w3.intoArray(c, c3 + t + 3 * L);
            }
            for (; t + 2 * L <= cols; t += 2 * L) {
                FloatVector x0 = FloatVector.fromArray(S, c, c0 + t), y0 = FloatVector.fromArray(S, c, c0 + t + L);
                FloatVector x1 = FloatVector.fromArray(S, c, c1 + t), y1 = FloatVector.fromArray(S, c, c1 + t + L);
                FloatVector x2 = FloatVector.fromArray(S, c, c2 + t), y2 = FloatVector.fromArray(S, c, c2 + t + L);
                FloatVector x3 = FloatVector.fromArray(S, c, c3 + t), y3 = FloatVector.fromArray(S, c, c3 + t + L);
                for (int y = 0, ya = 0, yb = bOff + t; y < yn; y++, ya += ay, yb += ldb) {
                    FloatVector b0 = FloatVector.fromArray(S, b, yb), b1 = FloatVector.fromArray(S, b, yb + L);
                    FloatVector w = FloatVector.broadcast(S, a[a0 + ya]);
                    x0 = w.fma(b0, x0); y0 = w.fma(b1, y0);
                    w = FloatVector.broadcast(S, a[a1 + ya]);
                    x1 = w.fma(b0, x1); y1 = w.fma(b1, y1);
                    w = FloatVector.broadcast(S, a[a2 + ya]);
                    x2 = w.fma(b0, x2); y2 = w.fma(b1, y2);
                    w = FloatVector.broadcast(S, a[a3 + ya]);
                    x3 = w.fma(b0, x3); y3 = w.fma(b1, y3);
                }
                x0.intoArray(c, c0 + t); y0.intoArray(c, c0 + t + L);
                x1.intoArray(c, c1 + t); y1.intoArray(c, c1 + t + L);
                x2.intoArray(c, c2 + t); y2.intoArray(c, c2 + t + L);
                x3.intoArray(c, c3 + t); y3.intoArray(c, c3 + t + L);
            }
            for (; t + L <= cols; t += L) {
                FloatVector x0 = FloatVector.fromArray(S, c, c0 + t), x1 = FloatVector.fromArray(S, c, c1 + t);
                FloatVector x2 = FloatVector.fromArray(S, c, c2 + t), x3 = FloatVector.fromArray(S, c, c3 + t);
                for (int y = 0, ya = 0, yb = bOff + t; y < yn; y++, ya += ay, yb += ldb) {
                    FloatVector b0 = FloatVector.fromArray(S, b, yb);
                    x0 = FloatVector.broadcast(S, a[a0 + ya]).fma(b0, x0);
                    x1 = FloatVector.broadcast(S, a[a1 + ya]).fma(b0, x1);
                    x2 = FloatVector.broadcast(S, a[a2 + ya]).fma(b0, x2);
                    x3 = FloatVector.broadcast(S, a[a3 + ya]).fma(b0, x3);
                }
                x0.intoArray(c, c0 + t); x1.intoArray(c, c1 + t);
                x2.intoArray(c, c2 + t); x3.intoArray(c, c3 + t);
            }
            for (; t < cols; t++) {
                mulAddScalar(a, a0, ay, yn, b, bOff + t, ldb, c, c0 + t);
                mulAddScalar(a, a1, ay, yn, b, bOff + t, ldb, c, c1 + t);
                mulAddScalar(a, a2, ay, yn, b, bOff + t, ldb, c, c2 + t);
                mulAddScalar(a, a3, ay, yn, b, bOff + t, ldb, c, c3 + t);
            }
        }
        for (; x < xn; x++) {
            int a0 = aOff + x * ax, c0 = cOff + x * ldc;
            int t = 0;
            for (; t + L <= cols; t += L) {
                FloatVector x0 = FloatVector.fromArray(S, c, c0 + t);
                for (int y = 0, ya = 0, yb = bOff + t; y < yn; y++, ya += ay, yb += ldb)
                    x0 = FloatVector.broadcast(S, a[a0 + ya]).fma(FloatVector.fromArray(S, b, yb), x0);
                x0.intoArray(c, c0 + t);
            }
            for (; t < cols; t++) mulAddScalar(a, a0, ay, yn, b, bOff + t, ldb, c, c0 + t);
        }
    }

    /** One element of {@link #mulAdd}, for column counts that are not a multiple of the vector length. */
    private static void mulAddScalar(float[] a, int a0, int ay, int yn, float[] b, int b0, int ldb, float[] c, int ci) {
        float acc = c[ci];
        for (int y = 0; y < yn; y++) acc = Math.fma(a[a0 + y * ay], b[b0 + y * ldb], acc);
        c[ci] = acc;
    }

    /**
     * Per-thread working set of the backward: two score tiles; of a key block K (rows), Kᵀ, Vᵀ, dK and dV;
     * of a query block Q and dO.
     */
    private static final class Tile {
        final float[] p = new float[QB * KB], ds = new float[QB * KB];
        float[] kt = new float[0], vt = kt, kj = kt, dk = kt, dv = kt, qi = kt, gi = kt;

        Tile fit(int d) {
            if (kt.length < d * KB) {
                kt = new float[d * KB];
                vt = new float[d * KB];
                kj = new float[KB * d];
                dk = new float[KB * d];
                dv = new float[KB * d];
                qi = new float[QB * d];
                gi = new float[QB * d];
            }
            return this;
        }
    }

    private static final ThreadLocal<Tile> TILES = ThreadLocal.withInitial(Tile::new);

    private static void check(int samples, int len, int heads, int kvHeads, int headDim, float[] lse, float[][] queryShaped,
                              float[][] keyShaped) {
        if (samples < 0 || len < 0 || heads < 0 || headDim < 0)
            throw new IllegalArgumentException("attention: negative size " + samples + "x" + len + "x" + heads + "x" + headDim);
        if (kvHeads <= 0 ? heads != 0 : heads % kvHeads != 0)
            throw new IllegalArgumentException("attention: " + heads + " query heads are not a multiple of " + kvHeads + " kv heads");
        long n = (long) samples * len * heads * headDim, nkv = (long) samples * len * kvHeads * headDim;
        for (float[] m : queryShaped)
            if (m.length < n) throw new IllegalArgumentException("attention: " + m.length + " floats, need " + n);
        for (float[] m : keyShaped)
            if (m.length < nkv) throw new IllegalArgumentException("attention: " + m.length + " floats, need " + nkv);
        if (lse.length < (long) samples * heads * len)
            throw new IllegalArgumentException("attention: lse has " + lse.length + " floats, need " + (long) samples * heads * len);
    }
}
