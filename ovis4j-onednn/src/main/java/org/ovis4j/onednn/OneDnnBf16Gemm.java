package org.ovis4j.onednn;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentHashMap;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.Bf16Gemm;
import org.ovis4j.core.parallel.Parallel;

/**
 * {@link Bf16Gemm} on oneDNN's bf16 matmul (AVX512-BF16 {@code vdpbf16ps} or AMX tiles, float32
 * accumulation and destination). Each float operand is rounded to bf16 into a contiguous native buffer in
 * its stored orientation; a transposed operand is then described to oneDNN as the transposed (column-major,
 * tag {@code ba}) view of that buffer, so no operand is ever transposed by copying. The float32 result goes
 * from a native buffer into the caller's rows (added to them when accumulating). Weights change every
 * optimizer step, so they are plain row-major bf16 matrices ({@link Matrix}), not reordered into a blocked
 * layout: oneDNN's brgemm packs its B blocks itself per call.
 *
 * <p>Primitives are cached per (m, n, k, orientations, bias, threads), as {@link OneDnnMatmul}'s are; each
 * calling thread has its own stream and scratch buffers. Threads as in {@link OneDnnMatmul}: all of
 * ovis4j's from the main thread, one inside a {@link Parallel#forEach} task.
 */
final class OneDnnBf16Gemm implements Bf16Gemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int MAX_CACHED = 1024;
    /** Below this many values a conversion or copy runs on the calling thread (a pool dispatch costs more). */
    private static final int PARALLEL_MIN = 1 << 15;

    private final Dnnl d;
    private final String description;
    private final ConcurrentHashMap<Key, MatmulPrimitive> cache = new ConcurrentHashMap<>();
    private final ThreadLocal<Scratch> scratch;

    OneDnnBf16Gemm(Dnnl d, String description) {
        this.d = d;
        this.description = description;
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(d.stream()));
    }

    @Override
    public String describe() {
        return description;
    }

    /** A bf16 [rows, cols] row-major matrix in native memory. */
    private record Bf16Matrix(int rows, int cols, MemorySegment data) implements Matrix {}

    @Override
    public Matrix matrix(int rows, int cols) {
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("bf16 matrix of " + rows + " x " + cols);
        return new Bf16Matrix(rows, cols, Arena.ofAuto().allocate(2L * rows * cols, 64));
    }

    @Override
    public void round(float[] src, int off, Matrix dst) {
        Bf16Matrix m = own(dst);
        if (off < 0 || (long) off + (long) m.rows * m.cols > src.length)
            throw new IndexOutOfBoundsException("bf16 round: " + m.rows + " x " + m.cols + " values from " + off + " of " + src.length);
        toBf16(src, off, m.cols, m.rows, m.cols, m.data);
    }

    @Override
    public void multiply(int m, int n, int k, float[] a, int aOff, int lda, boolean transA, float[] b, int bOff, int ldb,
                         boolean transB, float[] bias, float[] c, int cOff, int ldc, boolean accumulate) {
        checkDims(m, n, k);
        checkOperand("B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        if (m == 0 || n == 0) return;
        Scratch s = scratch.get();
        MemorySegment bb = s.b(2L * k * n);
        if (transB) toBf16(b, bOff, ldb, n, k, bb);
        else toBf16(b, bOff, ldb, k, n, bb);
        run(s, m, n, k, a, aOff, lda, transA, bb, transB, bias, c, cOff, ldc, accumulate);
    }

    @Override
    public void multiply(int m, int n, int k, float[] a, int aOff, int lda, boolean transA, Matrix b, boolean transB,
                         float[] bias, float[] c, int cOff, int ldc, boolean accumulate) {
        checkDims(m, n, k);
        Bf16Matrix w = own(b);
        if ((transB ? w.rows != n || w.cols != k : w.rows != k || w.cols != n))
            throw new IllegalArgumentException("bf16 matmul: B is " + w.rows + " x " + w.cols + ", expected "
                    + (transB ? n + " x " + k + " (transposed)" : k + " x " + n));
        if (m == 0 || n == 0) return;
        run(scratch.get(), m, n, k, a, aOff, lda, transA, w.data, transB, bias, c, cOff, ldc, accumulate);
        java.lang.ref.Reference.reachabilityFence(w);
    }

    private void run(Scratch s, int m, int n, int k, float[] a, int aOff, int lda, boolean transA, MemorySegment bb, boolean transB,
                     float[] bias, float[] c, int cOff, int ldc, boolean accumulate) {
        checkOperand("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        checkOperand("C", c, cOff, ldc, m, n);
        if (bias != null && bias.length < n) throw new IllegalArgumentException("bias has " + bias.length + " values, need " + n);
        MemorySegment ab = s.a(2L * m * k);
        if (transA) toBf16(a, aOff, lda, k, m, ab);
        else toBf16(a, aOff, lda, m, k, ab);
        boolean withBias = bias != null && !accumulate;
        MemorySegment bs = MemorySegment.NULL;
        if (withBias) {
            bs = s.bias(4L * n);
            MemorySegment.copy(bias, 0, bs, JAVA_FLOAT, 0, n);
        }
        MemorySegment dst = s.dst(4L * m * n);
        int threads = Parallel.inside() ? 1 : Parallel.threads();
        d.setThreads(threads);
        Key key = new Key(m, n, k, transA, transB, withBias, threads);
        MatmulPrimitive p = primitive(key);
        try {
            p.execute(s.stream, ab, bb, bs, dst);
        } finally {
            if (cache.get(key) != p) p.destroy();
        }
        copyOut(dst, m, n, c, cOff, ldc, accumulate);
    }

    private record Key(int m, int n, int k, boolean transA, boolean transB, boolean bias, int threads) {}

    private MatmulPrimitive primitive(Key key) {
        MatmulPrimitive p = cache.get(key);
        if (p != null) return p;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = d.mdTag(a, new long[] {key.m(), key.k()}, Dnnl.BF16, key.transA() ? Dnnl.TAG_BA : Dnnl.TAG_AB);
            MemorySegment wei = d.mdTag(a, new long[] {key.k(), key.n()}, Dnnl.BF16, key.transB() ? Dnnl.TAG_BA : Dnnl.TAG_AB);
            MemorySegment dst = d.mdTag(a, new long[] {key.m(), key.n()}, Dnnl.F32, Dnnl.TAG_AB);
            MemorySegment bias = key.bias() ? d.mdTag(a, new long[] {1, key.n()}, Dnnl.F32, Dnnl.TAG_AB) : MemorySegment.NULL;
            p = MatmulPrimitive.create(d, src, wei, bias, dst, true, "bf16 gemm " + key);
        }
        if (p == null) throw new OvisException("oneDNN has no bf16 matmul for " + key);
        if (cache.size() >= MAX_CACHED) return p;
        MatmulPrimitive prev = cache.putIfAbsent(key, p);
        if (prev == null) return p;
        p.destroy();
        return prev;
    }

    private static Bf16Matrix own(Matrix m) {
        if (m instanceof Bf16Matrix b) return b;
        throw new IllegalArgumentException("not a oneDNN bf16 matrix: " + m);
    }

    private static void checkDims(int m, int n, int k) {
        if (m < 0 || n < 0 || k < 1) throw new IllegalArgumentException("bf16 matmul of " + m + " x " + k + " by " + k + " x " + n);
    }

    /** A [rows, cols] operand stored row-major from off with stride ld must fit in x. */
    private static void checkOperand(String what, float[] x, int off, int ld, int rows, int cols) {
        if (off < 0 || ld < cols) throw new IllegalArgumentException("bf16 matmul: " + what + " at " + off + " with stride " + ld
                + " for rows of " + cols);
        if (rows > 0 && (long) off + (long) (rows - 1) * ld + cols > x.length)
            throw new IndexOutOfBoundsException("bf16 matmul: " + what + " too short: " + x.length + " for " + rows + " rows of "
                    + cols + " at " + off + " stride " + ld);
    }

    /** Row chunks for a conversion of rows x cols values: one (this thread) when small or inside a task. */
    private static int chunks(int rows, int cols) {
        if (Parallel.inside() || (long) rows * cols < PARALLEL_MIN) return 1;
        return Math.min(rows, Parallel.threads() * 4);
    }

    /** rows x cols floats from x (stride ld) to contiguous bf16 in dst. */
    private static void toBf16(float[] x, int off, int ld, int rows, int cols, MemorySegment dst) {
        int chunks = chunks(rows, cols);
        if (chunks == 1) {
            for (int r = 0; r < rows; r++) Bf16.store(x, off + r * ld, cols, dst, 2L * r * cols);
            return;
        }
        Parallel.forEach(chunks, ch -> {
            for (int r = (int) ((long) rows * ch / chunks), end = (int) ((long) rows * (ch + 1) / chunks); r < end; r++)
                Bf16.store(x, off + r * ld, cols, dst, 2L * r * cols);
        });
    }

    /** dst [m, n] into c's rows (added when accumulating). */
    private static void copyOut(MemorySegment dst, int m, int n, float[] c, int cOff, int ldc, boolean accumulate) {
        int chunks = chunks(m, n);
        if (chunks == 1) {
            for (int r = 0; r < m; r++) copyRow(dst, r, n, c, cOff + r * ldc, accumulate);
            return;
        }
        Parallel.forEach(chunks, ch -> {
            for (int r = (int) ((long) m * ch / chunks), end = (int) ((long) m * (ch + 1) / chunks); r < end; r++)
                copyRow(dst, r, n, c, cOff + r * ldc, accumulate);
        });
    }

    private static void copyRow(MemorySegment dst, int r, int n, float[] c, int co, boolean accumulate) {
        long off = 4L * r * n;
        if (!accumulate) {
            MemorySegment.copy(dst, JAVA_FLOAT, off, c, co, n);
            return;
        }
        int j = 0;
        for (int len = F.length(); j + len <= n; j += len)
            FloatVector.fromMemorySegment(F, dst, off + 4L * j, ByteOrder.LITTLE_ENDIAN).add(FloatVector.fromArray(F, c, co + j)).intoArray(c, co + j);
        for (; j < n; j++) c[co + j] += dst.get(ValueLayout.JAVA_FLOAT_UNALIGNED, off + 4L * j);
    }

    /** Per-thread stream and native operand buffers (grown on demand, freed by the GC with the thread). */
    private static final class Scratch {
        final MemorySegment stream;
        private MemorySegment a = MemorySegment.NULL, b = MemorySegment.NULL, dst = MemorySegment.NULL, bias = MemorySegment.NULL;

        Scratch(MemorySegment stream) {
            this.stream = stream;
        }

        MemorySegment a(long bytes) { return (a = MatmulPrimitive.grow(a, bytes)).asSlice(0, bytes); }
        MemorySegment b(long bytes) { return (b = MatmulPrimitive.grow(b, bytes)).asSlice(0, bytes); }
        MemorySegment dst(long bytes) { return (dst = MatmulPrimitive.grow(dst, bytes)).asSlice(0, bytes); }
        MemorySegment bias(long bytes) { return (bias = MatmulPrimitive.grow(bias, bytes)).asSlice(0, bytes); }
    }
}
