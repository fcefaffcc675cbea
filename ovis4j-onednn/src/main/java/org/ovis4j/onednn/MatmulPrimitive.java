package org.ovis4j.onednn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A oneDNN matmul primitive and the memory descriptors its operands are bound with. It runs on any
 * thread: the scratchpad is user-managed ({@link Dnnl#matmulPd}) and each thread brings its own, so
 * a primitive created once can be cached and shared by the pool.
 */
final class MatmulPrimitive {
    private static final ThreadLocal<MemorySegment[]> SCRATCH = ThreadLocal.withInitial(() -> new MemorySegment[] {MemorySegment.NULL});

    private final Dnnl d;
    private final MemorySegment primitive, srcMd, weightsMd, biasMd, dstMd, scratchMd;
    private final long scratchBytes;
    /** Whether {@link #destroy} also destroys the weights descriptor (false when it is shared by layers). */
    private final boolean ownsWeightsMd;

    private MatmulPrimitive(Dnnl d, MemorySegment primitive, MemorySegment srcMd, MemorySegment weightsMd, MemorySegment biasMd,
                            MemorySegment dstMd, MemorySegment scratchMd, boolean ownsWeightsMd) {
        this.d = d;
        this.primitive = primitive;
        this.srcMd = srcMd;
        this.weightsMd = weightsMd;
        this.biasMd = biasMd;
        this.dstMd = dstMd;
        this.scratchMd = scratchMd;
        this.scratchBytes = d.mdSize(scratchMd);
        this.ownsWeightsMd = ownsWeightsMd;
    }

    /**
     * The primitive for these descriptors (bias may be NULL), which it then owns; null when oneDNN
     * has no implementation (the descriptors are then destroyed).
     */
    static MatmulPrimitive create(Dnnl d, MemorySegment srcMd, MemorySegment weightsMd, MemorySegment biasMd, MemorySegment dstMd,
                                  boolean ownsWeightsMd, String verboseLabel) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pd = d.matmulPd(a, srcMd, weightsMd, biasMd, dstMd);
            if (pd.equals(MemorySegment.NULL)) {
                d.mdDestroy(srcMd);
                d.mdDestroy(dstMd);
                if (!biasMd.equals(MemorySegment.NULL)) d.mdDestroy(biasMd);
                if (ownsWeightsMd) d.mdDestroy(weightsMd);
                return null;
            }
            if (Boolean.getBoolean("ovis4j.onednn.verbose")) System.err.println("ovis4j-onednn: " + verboseLabel + " -> " + d.implInfo(pd));
            MemorySegment scratch = d.scratchpadMd(a, pd);
            MemorySegment prim = d.primitive(a, pd);
            d.pdDestroy(pd);
            return new MatmulPrimitive(d, prim, srcMd, weightsMd, biasMd, dstMd, scratch, ownsWeightsMd);
        }
    }

    /** dst = src · weights (+ bias when the primitive has one; bias is ignored otherwise). */
    void execute(MemorySegment stream, MemorySegment src, MemorySegment weights, MemorySegment bias, MemorySegment dst) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment args = a.allocate(16L * 5, 8);
            MemorySegment[] mems = new MemorySegment[5];
            int n = 0;
            try {
                n = bind(a, args, mems, n, Dnnl.ARG_SRC, srcMd, src);
                n = bind(a, args, mems, n, Dnnl.ARG_WEIGHTS, weightsMd, weights);
                n = bind(a, args, mems, n, Dnnl.ARG_DST, dstMd, dst);
                if (!biasMd.equals(MemorySegment.NULL)) n = bind(a, args, mems, n, Dnnl.ARG_BIAS, biasMd, bias);
                if (scratchBytes > 0) n = bind(a, args, mems, n, Dnnl.ARG_SCRATCHPAD, scratchMd, scratch(scratchBytes));
                d.execute(primitive, stream, n, args);
            } finally {
                for (int i = 0; i < n; i++) d.memoryDestroy(mems[i]);
            }
        }
    }

    private int bind(Arena a, MemorySegment args, MemorySegment[] mems, int i, int id, MemorySegment md, MemorySegment data) {
        mems[i] = d.memory(a, md, data);
        args.set(JAVA_INT, 16L * i, id);
        args.set(ADDRESS, 16L * i + 8, mems[i]);
        return i + 1;
    }

    private static MemorySegment scratch(long bytes) {
        MemorySegment[] s = SCRATCH.get();
        return (s[0] = grow(s[0], bytes)).asSlice(0, bytes);
    }

    /**
     * s if it holds bytes, else a new native buffer (from an automatic arena, freed by the GC) of at
     * least bytes and 1.5x s: the per-thread scratch buffers of this module grow this way.
     */
    static MemorySegment grow(MemorySegment s, long bytes) {
        if (s.byteSize() >= bytes) return s;
        return Arena.ofAuto().allocate(Math.max(bytes, s.byteSize() + s.byteSize() / 2), 64);
    }

    void destroy() {
        d.primitiveDestroy(primitive);
        d.mdDestroy(srcMd);
        d.mdDestroy(dstMd);
        d.mdDestroy(scratchMd);
        if (!biasMd.equals(MemorySegment.NULL)) d.mdDestroy(biasMd);
        if (ownsWeightsMd) d.mdDestroy(weightsMd);
    }
}
