package org.ovis4j.onednn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.ConcurrentHashMap;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.MatmulBackend;
import org.ovis4j.core.kernel.Widen;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * Matmul backend on oneDNN (the org.bytedeco dnnl build, OpenMP runtime), for CPUs with AVX512-BF16
 * or AMX.
 *
 * <p><b>bf16</b> ({@link #prepare} of bf16 or f16 weights, {@link #prepareBf16} of any): weights are
 * converted to bf16 if stored otherwise and reordered
 * once into the blocked layout oneDNN's matmul chooses ({@code format_tag::any}); each call rounds
 * the float32 activation rows to bf16, runs the matmul with float32 accumulation and destination
 * (bias added by the primitive), and copies the rows into y.
 *
 * <p><b>f32</b> ({@link #prepare} of f32 weights): the same with float32 weights and activations, so
 * that fp32 precision stays fp32.
 *
 * <p><b>int8 W8A8</b> ({@link #prepareInt8}): weights quantized symmetrically per output channel to
 * s8 (scale = max|w|/127), activations per row at run time to s8 (scale = max|x|/127), s8·s8 matmul
 * with s32 accumulation (AMX-INT8 / VNNI), dequantized while copying into y.
 *
 * <p><b>Threads</b>: oneDNN runs its own OpenMP team. A call made from the main thread (or any thread
 * not inside {@link Parallel#forEach}) uses {@link Parallel#threads()} OpenMP threads; a call made
 * from inside a forEach task uses one, so the two pools never run at once. Before the library loads,
 * OMP_NUM_THREADS defaults to that count and GOMP_SPINCOUNT to 10000 (unless already set), so idle
 * OpenMP workers stop spinning soon after a matmul instead of taking a core from the Java kernels
 * for ~10 ms. Primitives are cached per (M, K, N, bias, threads); the weight layout (the same for
 * every M here, e.g. BA16a32b2a for bf16 on AMX) is chosen once per (types, K, N).
 *
 * <p><b>Memory</b>: each prepared layer owns its reordered weights in native memory from an automatic
 * arena: freed by the garbage collector once the prepared object is unreachable, or at process
 * exit. Primitives and per-thread scratch buffers live for the process. No heap copy of a whole
 * weight matrix is made (quantization and conversion go row by row into native buffers).
 */
public final class OneDnnMatmul implements MatmulBackend {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_PREFERRED.withShape(
            jdk.incubator.vector.VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 4)));
    private static final int MAX_CACHED = 512;
    /** The M for which the weight layout is chosen at prepare time (typical image-token count). */
    private static final int M_LAYOUT = 1024;

    private static final Object LOCK = new Object();
    private static volatile OneDnnMatmul instance;
    private static String failure;

    private final Dnnl d;
    private final ConcurrentHashMap<Key, MatmulPrimitive> cache = new ConcurrentHashMap<>();
    private final ThreadLocal<Ctx> ctx;

    private OneDnnMatmul(Dnnl d) {
        this.d = d;
        this.ctx = ThreadLocal.withInitial(() -> new Ctx(d.stream()));
    }

    /**
     * The backend, or an {@link OvisException} with a one-line reason when it cannot run here: the
     * jars or native library are missing, or the CPU has neither AVX512-BF16 nor AMX (where oneDNN
     * bf16 would be emulated and slower than the Java kernels).
     */
    public static OneDnnMatmul create() {
        OneDnnMatmul b = instance;
        if (b != null) return b;
        synchronized (LOCK) {
            if (instance != null) return instance;
            if (failure != null) throw new OvisException(failure);
            try {
                Dnnl d = Dnnl.load(Parallel.threads());
                if ((d.isa & Dnnl.ISA_AVX512_CORE_BF16) != Dnnl.ISA_AVX512_CORE_BF16)
                    throw new OvisException("oneDNN " + d.version + " found the CPU without AVX512-BF16 or AMX (ISA "
                            + isaName(d.isa) + "); bf16 matmul would not beat the Java kernels");
                instance = new OneDnnMatmul(d);
                return instance;
            } catch (OvisException e) {
                failure = e.getMessage();
                throw e;
            }
        }
    }

    private static OneDnnMatmul anyCpu;

    /**
     * For tests: the backend without the CPU check, so that its numerics can be checked on CPUs
     * where oneDNN computes bf16 and int8 without native instructions (slowly); throws where the
     * library does not load.
     */
    static OneDnnMatmul createOnAnyCpu() {
        synchronized (LOCK) {
            if (instance != null) return instance;
            if (anyCpu == null) anyCpu = new OneDnnMatmul(Dnnl.load(Parallel.threads()));
            return anyCpu;
        }
    }

    @Override
    public String name() {
        return "onednn";
    }

    /** For tests: attention with float32 operands, which oneDNN runs on any CPU. */
    OneDnnAttention attentionFloat32() {
        return new OneDnnAttention(d, Dnnl.F32);
    }

    private volatile OneDnnAttention attention;
    private volatile OneDnnBf16Gemm bf16Gemm;

    /** Training's bf16 products over float arrays ({@link OneDnnBf16Gemm}); this backend only exists where the CPU has a bf16 dot product. */
    @Override
    public org.ovis4j.core.kernel.Bf16Gemm bf16Gemm() {
        OneDnnBf16Gemm g = bf16Gemm;
        if (g == null) {
            synchronized (this) {
                if (bf16Gemm == null) bf16Gemm = new OneDnnBf16Gemm(d, describe());
                g = bf16Gemm;
            }
        }
        return g;
    }

    /** For tests: the bf16 products whatever the CPU (emulated by oneDNN where it lacks AVX512-BF16). */
    OneDnnBf16Gemm bf16GemmOnAnyCpu() {
        return new OneDnnBf16Gemm(d, describe());
    }

    /** Attention with bf16 products on oneDNN ({@link OneDnnAttention}). */
    @Override
    public org.ovis4j.core.kernel.AttentionKernel attention() {
        OneDnnAttention a = attention;
        if (a == null) {
            synchronized (this) {
                if (attention == null) attention = new OneDnnAttention(d, Dnnl.BF16);
                a = attention;
            }
        }
        return a;
    }

    /** oneDNN's version, threading runtime and the ISA it dispatches to, for reports. */
    public String describe() {
        return "oneDNN " + d.version + ", ISA " + isaName(d.isa) + ", " + d.libraryPath;
    }

    /** True when oneDNN dispatches to AMX (bf16 and int8 tiles). */
    public boolean amx() {
        return (d.isa & Dnnl.ISA_AVX512_CORE_AMX) == Dnnl.ISA_AVX512_CORE_AMX;
    }

    static String isaName(int isa) {
        if ((isa & Dnnl.ISA_AVX512_CORE_AMX) == Dnnl.ISA_AVX512_CORE_AMX) return "avx512_core_amx";
        if ((isa & Dnnl.ISA_AVX512_CORE_BF16) == Dnnl.ISA_AVX512_CORE_BF16) return "avx512_core_bf16";
        if ((isa & Dnnl.ISA_AVX512_CORE_VNNI) == Dnnl.ISA_AVX512_CORE_VNNI) return "avx512_core_vnni";
        if (isa == Dnnl.ISA_AVX512_CORE) return "avx512_core";
        if ((isa & Dnnl.ISA_AVX2) == Dnnl.ISA_AVX2) return isa == Dnnl.ISA_AVX2 ? "avx2" : "avx2 with VNNI";
        return String.format("0x%x", isa);
    }

    // ------------------------------------------------------------------------------------------
    // bf16

    /**
     * bf16 weights (and f16, converted) get the bf16 path; f32 weights keep float32 arithmetic
     * (oneDNN's f32 matmul), so that a pipeline run at fp32 precision is not silently rounded to
     * bf16. {@link #prepareBf16} forces bf16 for f32 weights.
     */
    @Override
    public Prepared prepare(Tensor weight) {
        return weight.dtype() == DType.F32 ? prepareDense(weight, false) : prepareDense(weight, true);
    }

    /** The bf16 path whatever the stored type: weights rounded to bf16 once, activations per call. */
    public Prepared prepareBf16(Tensor weight) {
        return prepareDense(weight, true);
    }

    private Prepared prepareDense(Tensor weight, boolean bf16) {
        int n = Math.toIntExact(weight.dim(0)), k = Math.toIntExact(weight.dim(1));
        int threads = threadsHere();
        d.setThreads(threads);
        int wt = bf16 ? Dnnl.BF16 : Dnnl.F32;
        MemorySegment wmd = weightsLayout(wt, wt, Dnnl.F32, k, n);
        MemorySegment packed = Arena.ofAuto().allocate(d.mdSize(wmd), 64);
        try (Arena tmp = Arena.ofShared()) {
            MemorySegment src;
            int type;
            if (weight.dtype() == DType.BF16 || weight.dtype() == DType.F32) {
                type = weight.dtype() == DType.BF16 ? Dnnl.BF16 : Dnnl.F32;
                src = weight.data().isNative() ? weight.data() : tmp.allocate(weight.data().byteSize(), 64).copyFrom(weight.data());
            } else {
                // f16, f64: widen row by row into a temporary native f32 copy; the reorder rounds to bf16.
                type = Dnnl.F32;
                src = tmp.allocate((long) n * k * 4, 64);
                MemorySegment dst = src;
                Parallel.forEach(chunks(n), c -> {
                    float[] row = new float[k];
                    for (int r = chunkStart(n, c); r < chunkStart(n, c + 1); r++) {
                        Widen.read(weight, (long) r * k, row, 0, k);
                        MemorySegment.copy(row, 0, dst, JAVA_FLOAT, (long) r * k * 4, k);
                    }
                });
            }
            reorder(tmp, d.mdTag(tmp, new long[] {k, n}, type, Dnnl.TAG_BA), src, wmd, packed);
        }
        return new Dense(k, n, bf16, wmd, packed);
    }

    /** bf16 (activations rounded per call) or f32 weights in oneDNN's layout. */
    private final class Dense implements Prepared {
        final int k, n;
        final boolean bf16;
        final MemorySegment wmd, packed;

        Dense(int k, int n, boolean bf16, MemorySegment wmd, MemorySegment packed) {
            this.k = k;
            this.n = n;
            this.bf16 = bf16;
            this.wmd = wmd;
            this.packed = packed;
        }

        @Override public int in() { return k; }
        @Override public int out() { return n; }

        @Override
        public void multiply(float[] x, int xOff, int ldx, int rows, float[] bias, float[] y, int ldy, int yOff, boolean accumulate) {
            check(x, xOff, ldx, rows, k, bias, y, ldy, yOff, n);
            if (rows == 0) return;
            boolean withBias = bias != null && !accumulate;
            int threads = threadsHere();
            Ctx c = ctx.get();
            MemorySegment src = c.src((long) rows * k * (bf16 ? 2 : 4));
            if (bf16) toBf16(x, xOff, ldx, rows, k, src);
            else copyIn(x, xOff, ldx, rows, k, src);
            MemorySegment dst = c.dst((long) rows * n * 4);
            MemorySegment b = MemorySegment.NULL;
            if (withBias) {
                b = c.bias((long) n * 4);
                MemorySegment.copy(bias, 0, b, JAVA_FLOAT, 0, n);
            }
            d.setThreads(threads);
            Key key = new Key(bf16 ? Dnnl.BF16 : Dnnl.F32, Dnnl.F32, rows, k, n, withBias, threads);
            run(key, primitive(key, wmd), c, src, packed, b, dst);
            copyOut(dst, rows, n, y, ldy, yOff, accumulate);
            // packed must stay reachable until the native call above has returned.
            java.lang.ref.Reference.reachabilityFence(this);
        }
    }

    // ------------------------------------------------------------------------------------------
    // int8 W8A8

    /**
     * Weights quantized to s8 per output channel; activations quantized per row at run time. The
     * result equals Σ_k (sx_r·qx_rk)(sw_n·qw_nk): each operand off by at most half its step.
     */
    @Override
    public boolean hasInt8() {
        return true;
    }

    @Override
    public Prepared prepareInt8(Tensor weight) {
        int n = Math.toIntExact(weight.dim(0)), k = Math.toIntExact(weight.dim(1));
        int threads = threadsHere();
        d.setThreads(threads);
        MemorySegment wmd = weightsLayout(Dnnl.S8, Dnnl.S8, Dnnl.S32, k, n);
        MemorySegment packed = Arena.ofAuto().allocate(d.mdSize(wmd), 64);
        float[] scales = new float[n];
        try (Arena tmp = Arena.ofShared()) {
            MemorySegment q = tmp.allocate((long) n * k, 64);
            Parallel.forEach(chunks(n), c -> {
                float[] row = new float[k];
                for (int r = chunkStart(n, c); r < chunkStart(n, c + 1); r++) {
                    Widen.read(weight, (long) r * k, row, 0, k);
                    scales[r] = quantizeRow(row, 0, k, q, (long) r * k);
                }
            });
            reorder(tmp, d.mdTag(tmp, new long[] {k, n}, Dnnl.S8, Dnnl.TAG_BA), q, wmd, packed);
        }
        return new Int8(k, n, wmd, packed, scales);
    }

    private final class Int8 implements Prepared {
        final int k, n;
        final MemorySegment wmd, packed;
        final float[] scales;

        Int8(int k, int n, MemorySegment wmd, MemorySegment packed, float[] scales) {
            this.k = k;
            this.n = n;
            this.wmd = wmd;
            this.packed = packed;
            this.scales = scales;
        }

        @Override public int in() { return k; }
        @Override public int out() { return n; }

        @Override
        public void multiply(float[] x, int xOff, int ldx, int rows, float[] bias, float[] y, int ldy, int yOff, boolean accumulate) {
            check(x, xOff, ldx, rows, k, bias, y, ldy, yOff, n);
            if (rows == 0) return;
            int threads = threadsHere();
            Ctx c = ctx.get();
            MemorySegment src = c.src((long) rows * k);
            float[] rowScale = new float[rows];
            Parallel.forEach(chunks(rows), ch -> {
                for (int r = chunkStart(rows, ch); r < chunkStart(rows, ch + 1); r++)
                    rowScale[r] = quantizeRow(x, xOff + r * ldx, k, src, (long) r * k);
            });
            MemorySegment dst = c.dst((long) rows * n * 4);
            d.setThreads(threads);
            Key key = new Key(Dnnl.S8, Dnnl.S32, rows, k, n, false, threads);
            run(key, primitive(key, wmd), c, src, packed, MemorySegment.NULL, dst);
            float[] base = accumulate ? null : bias;
            Parallel.forEach(chunks(rows), ch -> {
                for (int r = chunkStart(rows, ch); r < chunkStart(rows, ch + 1); r++)
                    dequantizeRow(dst, (long) r * n * 4, n, rowScale[r], scales, base, accumulate, y, r * ldy + yOff);
            });
            java.lang.ref.Reference.reachabilityFence(this);
        }
    }

    // ------------------------------------------------------------------------------------------
    // primitives

    private record Key(int srcType, int dstType, int m, int k, int n, boolean bias, int threads) {}

    private record LayoutKey(int srcType, int weiType, int dstType, int k, int n) {}

    private final ConcurrentHashMap<LayoutKey, MemorySegment> layouts = new ConcurrentHashMap<>();

    /**
     * The weight layout oneDNN's matmul picks for (K, N) at M = {@value #M_LAYOUT} with all of
     * ovis4j's threads; every primitive of a layer is then created for exactly that layout, so the
     * weights are reordered once. One descriptor per (types, K, N), kept for the process, so that
     * a cached primitive always matches the layout of every layer of its shape.
     */
    private MemorySegment weightsLayout(int srcType, int weiType, int dstType, int k, int n) {
        return layouts.computeIfAbsent(new LayoutKey(srcType, weiType, dstType, k, n), key -> {
            d.setThreads(Parallel.threads());
            try {
                return chooseLayout(srcType, weiType, dstType, k, n);
            } finally {
                d.setThreads(threadsHere());
            }
        });
    }

    private MemorySegment chooseLayout(int srcType, int weiType, int dstType, int k, int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = d.mdTag(a, new long[] {M_LAYOUT, k}, srcType, Dnnl.TAG_AB);
            MemorySegment wei = d.mdTag(a, new long[] {k, n}, weiType, Dnnl.TAG_ANY);
            MemorySegment dst = d.mdTag(a, new long[] {M_LAYOUT, n}, dstType, Dnnl.TAG_AB);
            try {
                MemorySegment pd = d.matmulPd(a, src, wei, MemorySegment.NULL, dst);
                if (pd.equals(MemorySegment.NULL))
                    throw new OvisException("oneDNN has no matmul for " + typeName(srcType) + " x " + typeName(weiType) + " here");
                MemorySegment md = d.mdClone(a, d.weightsMd(pd));
                d.pdDestroy(pd);
                return md; // lives as long as the process (one small descriptor per layer shape)
            } finally {
                d.mdDestroy(src);
                d.mdDestroy(wei);
                d.mdDestroy(dst);
            }
        }
    }

    /** Thread counts of the cached primitives for M×K×N (for tests). */
    java.util.Set<Integer> cachedThreads(int m, int k, int n) {
        java.util.Set<Integer> t = new java.util.TreeSet<>();
        for (Key key : cache.keySet()) if (key.m() == m && key.k() == k && key.n() == n) t.add(key.threads());
        return t;
    }

    /**
     * The cached primitive for key, created on first use; past {@value #MAX_CACHED} shapes a new one
     * is made for the call and destroyed after it ({@link #run}).
     */
    private MatmulPrimitive primitive(Key key, MemorySegment wmd) {
        MatmulPrimitive p = cache.get(key);
        if (p != null) return p;
        p = createPrimitive(key, wmd);
        if (cache.size() >= MAX_CACHED) return p;
        MatmulPrimitive prev = cache.putIfAbsent(key, p);
        if (prev == null) return p;
        p.destroy();
        return prev;
    }

    private MatmulPrimitive createPrimitive(Key key, MemorySegment wmd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = d.mdTag(a, new long[] {key.m(), key.k()}, key.srcType(), Dnnl.TAG_AB);
            MemorySegment dst = d.mdTag(a, new long[] {key.m(), key.n()}, key.dstType(), Dnnl.TAG_AB);
            MemorySegment bias = key.bias() ? d.mdTag(a, new long[] {1, key.n()}, Dnnl.F32, Dnnl.TAG_AB) : MemorySegment.NULL;
            MatmulPrimitive p = MatmulPrimitive.create(d, src, wmd, bias, dst, false, key.toString());
            if (p == null)
                throw new OvisException("oneDNN has no " + typeName(key.srcType()) + " matmul for M=" + key.m() + " K=" + key.k()
                        + " N=" + key.n() + " in the prepared weight layout");
            return p;
        }
    }

    private void run(Key key, MatmulPrimitive p, Ctx c, MemorySegment src, MemorySegment wei, MemorySegment bias, MemorySegment dst) {
        try {
            p.execute(c.stream, src, wei, bias, dst);
        } finally {
            if (cache.get(key) != p) p.destroy();
        }
    }

    private static void arg(MemorySegment args, int i, int id, MemorySegment mem) {
        args.set(JAVA_INT, 16L * i, id);
        args.set(ADDRESS, 16L * i + 8, mem);
    }

    /** Reorders user memory (md, data) into (dstMd, dst) once, e.g. weights into the matmul's layout. */
    private void reorder(Arena a, MemorySegment md, MemorySegment data, MemorySegment dstMd, MemorySegment dst) {
        MemorySegment pd = d.reorderPd(a, md, dstMd);
        MemorySegment prim = d.primitive(a, pd);
        d.pdDestroy(pd);
        MemorySegment from = d.memory(a, md, data), to = d.memory(a, dstMd, dst);
        MemorySegment args = a.allocate(32, 8);
        arg(args, 0, Dnnl.ARG_SRC, from);
        arg(args, 1, Dnnl.ARG_DST, to);
        try {
            d.execute(prim, ctx.get().stream, 2, args);
        } finally {
            d.memoryDestroy(from);
            d.memoryDestroy(to);
            d.primitiveDestroy(prim);
            d.mdDestroy(md);
        }
    }

    /** OpenMP threads for a call from this thread: all of ovis4j's threads, or one inside a forEach task. */
    private static int threadsHere() {
        return Parallel.inside() ? 1 : Parallel.threads();
    }

    private static String typeName(int t) {
        return switch (t) {
            case Dnnl.BF16 -> "bf16";
            case Dnnl.F32 -> "f32";
            case Dnnl.S8 -> "s8";
            case Dnnl.U8 -> "u8";
            case Dnnl.S32 -> "s32";
            default -> "type " + t;
        };
    }

    /** Per-thread stream and native scratch (grown on demand, freed by the GC with the thread). */
    private static final class Ctx {
        final MemorySegment stream;
        private MemorySegment src = MemorySegment.NULL, dst = MemorySegment.NULL, bias = MemorySegment.NULL;

        Ctx(MemorySegment stream) {
            this.stream = stream;
        }

        MemorySegment src(long bytes) { return (src = MatmulPrimitive.grow(src, bytes)).asSlice(0, bytes); }
        MemorySegment dst(long bytes) { return (dst = MatmulPrimitive.grow(dst, bytes)).asSlice(0, bytes); }
        MemorySegment bias(long bytes) { return (bias = MatmulPrimitive.grow(bias, bytes)).asSlice(0, bytes); }

    }

    // ------------------------------------------------------------------------------------------
    // conversions (Vector API)

    private static void check(float[] x, int xOff, int ldx, int rows, int k, float[] bias, float[] y, int ldy, int yOff, int n) {
        if (rows < 0 || xOff < 0 || yOff < 0 || ldx < 0 || ldy < 0)
            throw new IllegalArgumentException("bad matmul arguments: rows " + rows + ", ldx " + ldx + ", ldy " + ldy);
        if (rows > 0) {
            if ((long) xOff + (long) (rows - 1) * ldx + k > x.length)
                throw new IndexOutOfBoundsException("x too short: " + x.length + " for " + rows + " rows of " + k + " at " + xOff + " stride " + ldx);
            if ((long) yOff + (long) (rows - 1) * ldy + n > y.length)
                throw new IndexOutOfBoundsException("y too short: " + y.length + " for " + rows + " rows of " + n + " at " + yOff + " stride " + ldy);
        }
        if (bias != null && bias.length < n) throw new IllegalArgumentException("bias has " + bias.length + " values, need " + n);
    }

    private static int chunks(int rows) {
        return Math.max(1, Math.min(rows, Parallel.threads() * 4));
    }

    private static int chunkStart(int rows, int c) {
        return (int) ((long) rows * c / chunks(rows));
    }

    /** Copies rows of x into dst [rows, k] as float32. */
    static void copyIn(float[] x, int xOff, int ldx, int rows, int k, MemorySegment dst) {
        Parallel.forEach(chunks(rows), c -> {
            for (int r = chunkStart(rows, c); r < chunkStart(rows, c + 1); r++)
                MemorySegment.copy(x, xOff + r * ldx, dst, JAVA_FLOAT, (long) r * k * 4, k);
        });
    }

    /** Rounds rows of x to bf16 (nearest, ties to even) into dst [rows, k]. */
    static void toBf16(float[] x, int xOff, int ldx, int rows, int k, MemorySegment dst) {
        Parallel.forEach(chunks(rows), c -> {
            for (int r = chunkStart(rows, c); r < chunkStart(rows, c + 1); r++) toBf16(x, xOff + r * ldx, k, dst, (long) r * k * 2);
        });
    }

    static void toBf16(float[] x, int off, int count, MemorySegment dst, long dstOff) {
        Bf16.store(x, off, count, dst, dstOff);
    }

    /**
     * Quantizes count floats to s8 with scale max|v|/127 (round half up) into dst; returns the scale
     * (0 for an all-zero row, whose codes are then all 0).
     */
    static float quantizeRow(float[] v, int off, int count, MemorySegment dst, long dstOff) {
        float amax = 0;
        int i = 0;
        int n = F.length();
        FloatVector m = FloatVector.zero(F);
        for (; i + n <= count; i += n) m = m.max(FloatVector.fromArray(F, v, off + i).abs());
        amax = m.reduceLanes(VectorOperators.MAX);
        for (; i < count; i++) amax = Math.max(amax, Math.abs(v[off + i]));
        if (!(amax > 0) || !Float.isFinite(amax)) {
            if (amax > 0 || Float.isNaN(amax)) throw new OvisException("cannot quantize a row holding " + amax);
            dst.asSlice(dstOff, count).fill((byte) 0);
            return 0f;
        }
        float inv = 127f / amax;
        i = 0;
        if (B.length() == n) {
            for (; i + n <= count; i += n) {
                FloatVector t = FloatVector.fromArray(F, v, off + i).mul(inv).add(128.5f);
                IntVector q = ((IntVector) t.convertShape(VectorOperators.F2I, I, 0)).sub(128);
                ((ByteVector) q.convertShape(VectorOperators.I2B, B, 0)).intoMemorySegment(dst, dstOff + i, ByteOrder.LITTLE_ENDIAN);
            }
        }
        for (; i < count; i++) dst.set(ValueLayout.JAVA_BYTE, dstOff + i, (byte) ((int) (v[off + i] * inv + 128.5f) - 128));
        return amax / 127f;
    }

    /** y[yOff + j] = (accumulate ? y : bias or 0) + acc[j]·rowScale·colScale[j]. */
    private static void dequantizeRow(MemorySegment acc, long accOff, int n, float rowScale, float[] colScale, float[] bias,
                                      boolean accumulate, float[] y, int yOff) {
        int j = 0;
        int len = I.length();
        if (F.length() == len) {
            for (; j + len <= n; j += len) {
                FloatVector a = (FloatVector) IntVector.fromMemorySegment(I, acc, accOff + 4L * j, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.I2F, F, 0);
                FloatVector v = a.mul(FloatVector.fromArray(F, colScale, j).mul(rowScale));
                if (accumulate) v = v.add(FloatVector.fromArray(F, y, yOff + j));
                else if (bias != null) v = v.add(FloatVector.fromArray(F, bias, j));
                v.intoArray(y, yOff + j);
            }
        }
        for (; j < n; j++) {
            float v = acc.get(ValueLayout.JAVA_INT_UNALIGNED, accOff + 4L * j) * (colScale[j] * rowScale);
            y[yOff + j] = accumulate ? y[yOff + j] + v : bias != null ? bias[j] + v : v;
        }
    }

    /** Copies dst [rows, n] into y's rows (adding when accumulating). */
    private static void copyOut(MemorySegment dst, int rows, int n, float[] y, int ldy, int yOff, boolean accumulate) {
        Parallel.forEach(chunks(rows), c -> {
            for (int r = chunkStart(rows, c); r < chunkStart(rows, c + 1); r++) {
                long off = (long) r * n * 4;
                int yo = r * ldy + yOff;
                if (!accumulate) {
                    MemorySegment.copy(dst, JAVA_FLOAT, off, y, yo, n);
                    continue;
                }
                int j = 0;
                for (int len = F.length(); j + len <= n; j += len)
                    FloatVector.fromMemorySegment(F, dst, off + 4L * j, ByteOrder.LITTLE_ENDIAN)
                            .add(FloatVector.fromArray(F, y, yo + j)).intoArray(y, yo + j);
                for (; j < n; j++) y[yo + j] += dst.get(ValueLayout.JAVA_FLOAT_UNALIGNED, off + 4L * j);
            }
        });
    }
}
