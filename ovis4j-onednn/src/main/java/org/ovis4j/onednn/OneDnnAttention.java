package org.ovis4j.onednn;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentHashMap;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.AttentionKernel;
import org.ovis4j.core.kernel.VectorMath;
import org.ovis4j.core.parallel.Parallel;

/**
 * Attention with both products on oneDNN, in bf16 (AMX where present; the counterpart of the bf16
 * matmuls, rounding the operands PyTorch's bf16 attention rounds) or in f32 (the same code path on
 * any CPU oneDNN runs on, which lets the tests check it where bf16 is missing), softmax in float32
 * Java code between them.
 *
 * <p>Q, K and V are converted to the operand type once per call, keeping their row layout, and each product reads
 * one head of them in place through strided memory descriptors. Work is split into (head, block of
 * query rows) tasks over ovis4j's threads; each task runs on one OpenMP thread:
 * S = Q_blk·K_hᵀ (f32), then per row e = exp(S·scale − max) in the operand type with the sum kept in f32
 * (masked keys get 0), then O = E·V_h (f32), and out = O / sum. A task's score block holds at most
 * {@value #SCORE_FLOATS} floats, so the scores of all heads never exist at once; a row of keys is
 * never split, so the softmax needs no running rescale.
 */
final class OneDnnAttention implements AttentionKernel {
    private static final VectorSpecies<Float> F = Bf16.F;
    private static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Score floats per task: 1 MiB of f32, so scores and their bf16 copy stay in a core's L2. */
    private static final int SCORE_FLOATS = 1 << 18;
    private static final int MAX_ROWS = 256, MIN_ROWS = 16;
    private static final int MAX_CACHED = 256;

    private final Dnnl d;
    /** Operand type (Dnnl.BF16 or Dnnl.F32) and its size in bytes. */
    private final int type, size;
    private final ConcurrentHashMap<Shape, MatmulPrimitive> cache = new ConcurrentHashMap<>();
    /** The calling thread's bf16 copies of Q, K, V (read by every task). */
    private final ThreadLocal<Buffers> inputs = ThreadLocal.withInitial(Buffers::new);
    /** Each task thread's scores, exponentials and product. */
    private final ThreadLocal<Buffers> tiles = ThreadLocal.withInitial(Buffers::new);
    private final ThreadLocal<MemorySegment> streams;

    OneDnnAttention(Dnnl d, int type) {
        if (type != Dnnl.BF16 && type != Dnnl.F32) throw new IllegalArgumentException("operand type " + type);
        this.d = d;
        this.type = type;
        this.size = type == Dnnl.BF16 ? 2 : 4;
        this.streams = ThreadLocal.withInitial(d::stream);
    }

    @Override
    public void attend(float[] q, int qOff, int ldq, float[] k, int kOff, int ldk, float[] v, int vOff, int ldv,
                       float[] out, int oOff, int ldo, int lq, int lk, int hq, int hkv, int dh, float scale,
                       boolean causal, int validKeys) {
        if (hq <= 0 || hkv <= 0 || hq % hkv != 0 || dh <= 0)
            throw new IllegalArgumentException("attention heads " + hq + "/" + hkv + " of dim " + dh);
        if (lq <= 0) return;
        if (!(scale > 0)) { // the softmax below shifts by max·scale, the largest scaled score only when scale > 0
            org.ovis4j.core.kernel.Attention.JAVA.attend(q, qOff, ldq, k, kOff, ldk, v, vOff, ldv, out, oOff, ldo,
                    lq, lk, hq, hkv, dh, scale, causal, validKeys);
            return;
        }
        int keys = Math.min(lk, validKeys);
        if (keys <= 0) {
            for (int r = 0; r < lq; r++) java.util.Arrays.fill(out, oOff + r * ldo, oOff + r * ldo + hq * dh, 0f);
            return;
        }
        int qw = hq * dh, kw = hkv * dh, group = hq / hkv;
        Buffers in = inputs.get();
        MemorySegment qb = in.a((long) lq * qw * size), kb = in.b((long) keys * kw * size), vb = in.c((long) keys * kw * size);
        convert(q, qOff, ldq, lq, qw, qb);
        convert(k, kOff, ldk, keys, kw, kb);
        convert(v, vOff, ldv, keys, kw, vb);

        int rowsPerTask = Math.clamp(SCORE_FLOATS / keys / MIN_ROWS * MIN_ROWS, MIN_ROWS, MAX_ROWS);
        int blocks = (lq + rowsPerTask - 1) / rowsPerTask;
        Parallel.forEach(hq * blocks, task -> {
            int h = task / blocks, r0 = task % blocks * rowsPerTask, rows = Math.min(rowsPerTask, lq - r0);
            int kvh = h / group;
            int cols = causal ? Math.min(keys, r0 + rows) : keys;
            Buffers t = tiles.get();
            MemorySegment s = t.a((long) rows * cols * 4), e = t.b((long) rows * cols * size), o = t.c((long) rows * dh * 4);
            d.setThreads(1);
            // S = Q[r0.., h] · K[.., kvh]ᵀ: K read as a [dh, cols] matrix with strides (1, kw).
            multiply(new Shape(rows, dh, cols, qw, 1, kw, cols, type, Dnnl.F32),
                    qb.asSlice(((long) r0 * qw + (long) h * dh) * size), kb.asSlice((long) kvh * dh * size), s);
            float[] sums = t.sums(rows);
            for (int r = 0; r < rows; r++) {
                int visible = causal ? Math.min(cols, r0 + r + 1) : cols;
                sums[r] = exponentiate(s, (long) r * cols * 4, e, (long) r * cols * size, visible, cols, scale);
            }
            // O = E · V[.., kvh]
            multiply(new Shape(rows, cols, dh, cols, kw, 1, dh, type, Dnnl.F32),
                    e, vb.asSlice((long) kvh * dh * size), o);
            for (int r = 0; r < rows; r++) divide(o, (long) r * dh * 4, dh, 1f / sums[r], out, oOff + (r0 + r) * ldo + h * dh);
        });
    }

    /**
     * e[j] = exp(s[j]·scale − max) (in the operand type) for j < visible, 0 for visible ≤ j < cols;
     * returns Σ e in f32 (of the unrounded exponentials, as a float32 softmax would normalise).
     */
    private float exponentiate(MemorySegment s, long sOff, MemorySegment e, long eOff, int visible, int cols, float scale) {
        int j = 0;
        FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (; j + L <= visible; j += L) vmax = vmax.max(FloatVector.fromMemorySegment(F, s, sOff + 4L * j, LE));
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (; j < visible; j++) max = Math.max(max, s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, sOff + 4L * j));
        float shift = max * scale;
        FloatVector m = FloatVector.broadcast(F, shift);
        FloatVector acc = FloatVector.zero(F);
        j = 0;
        if (Bf16.VECTOR || size == 4) {
            for (; j + L <= visible; j += L) {
                FloatVector p = VectorMath.expNonPositive(FloatVector.fromMemorySegment(F, s, sOff + 4L * j, LE).mul(scale).sub(m).min(0f));
                acc = acc.add(p);
                if (size == 2) Bf16.store(p, e, eOff + 2L * j);
                else p.intoMemorySegment(e, eOff + 4L * j, LE);
            }
        }
        float sum = VectorMath.sumLanes(acc);
        for (; j < visible; j++) {
            float p = (float) Math.exp(Math.min(0f, s.get(ValueLayout.JAVA_FLOAT_UNALIGNED, sOff + 4L * j) * scale - shift));
            sum += p;
            if (size == 2) Bf16.set(e, eOff + 2L * j, p);
            else e.set(ValueLayout.JAVA_FLOAT_UNALIGNED, eOff + 4L * j, p);
        }
        if (visible < cols) e.asSlice(eOff + (long) size * visible, (long) size * (cols - visible)).fill((byte) 0);
        return sum;
    }

    private static void divide(MemorySegment o, long off, int n, float inv, float[] out, int outOff) {
        int j = 0;
        for (; j + L <= n; j += L) FloatVector.fromMemorySegment(F, o, off + 4L * j, LE).mul(inv).intoArray(out, outOff + j);
        for (; j < n; j++) out[outOff + j] = o.get(ValueLayout.JAVA_FLOAT_UNALIGNED, off + 4L * j) * inv;
    }

    /** rows of x (stride ld) into dst [rows, width] in the operand type. */
    private void convert(float[] x, int off, int ld, int rows, int width, MemorySegment dst) {
        int chunks = Math.max(1, Math.min(rows, Parallel.threads() * 4));
        Parallel.forEach(chunks, c -> {
            for (int r = (int) ((long) rows * c / chunks), end = (int) ((long) rows * (c + 1) / chunks); r < end; r++) {
                if (size == 2) Bf16.store(x, off + r * ld, width, dst, (long) r * width * 2);
                else MemorySegment.copy(x, off + r * ld, dst, ValueLayout.JAVA_FLOAT_UNALIGNED, (long) r * width * 4, width);
            }
        });
    }

    // ------------------------------------------------------------------------------------------
    // plain strided products

    /**
     * C [m, n] (row stride ldc) = A [m, k] (strides lda, 1) · B [k, n] (strides bRow, bCol), A and B
     * of type ab, C of type c; single-threaded primitives.
     */
    private record Shape(int m, int k, int n, int lda, int bRow, int bCol, int ldc, int ab, int c) {}

    private void multiply(Shape shape, MemorySegment a, MemorySegment b, MemorySegment c) {
        MatmulPrimitive p = cache.get(shape);
        if (p == null) {
            p = create(shape);
            MatmulPrimitive prev = cache.size() < MAX_CACHED ? cache.putIfAbsent(shape, p) : null;
            if (prev != null) {
                p.destroy();
                p = prev;
            }
        }
        try {
            p.execute(streams.get(), a, b, MemorySegment.NULL, c);
        } finally {
            if (cache.get(shape) != p) p.destroy();
        }
    }

    private MatmulPrimitive create(Shape s) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment am = d.mdStrides(a, new long[] {s.m(), s.k()}, s.ab(), new long[] {s.lda(), 1});
            MemorySegment bm = d.mdStrides(a, new long[] {s.k(), s.n()}, s.ab(), new long[] {s.bRow(), s.bCol()});
            MemorySegment cm = d.mdStrides(a, new long[] {s.m(), s.n()}, s.c(), new long[] {s.ldc(), 1});
            MatmulPrimitive p = MatmulPrimitive.create(d, am, bm, MemorySegment.NULL, cm, true, "attention " + s);
            if (p == null)
                throw new OvisException("oneDNN has no " + (s.ab() == Dnnl.BF16 ? "bf16" : "f32") + " matmul for attention of " + s);
            return p;
        }
    }

    /** Three native buffers and a float array, grown on demand and kept for the thread. */
    private static final class Buffers {
        private MemorySegment a = MemorySegment.NULL, b = MemorySegment.NULL, c = MemorySegment.NULL;
        private float[] sums = new float[0];

        MemorySegment a(long bytes) { return (a = MatmulPrimitive.grow(a, bytes)).asSlice(0, bytes); }
        MemorySegment b(long bytes) { return (b = MatmulPrimitive.grow(b, bytes)).asSlice(0, bytes); }
        MemorySegment c(long bytes) { return (c = MatmulPrimitive.grow(c, bytes)).asSlice(0, bytes); }

        float[] sums(int n) {
            if (sums.length < n) sums = new float[n];
            return sums;
        }

    }
}
