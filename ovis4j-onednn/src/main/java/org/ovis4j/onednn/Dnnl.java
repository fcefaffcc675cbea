package org.ovis4j.onednn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.ovis4j.core.OvisException;

/**
 * The parts of oneDNN's C API this backend calls, through the Foreign Function API. The native
 * libraries (libdnnl.so.3 and the libgomp it is built against) come from the org.bytedeco dnnl jar:
 * JavaCPP's {@code Loader} extracts them to its cache (~/.javacpp/cache) and they are opened here
 * directly, without JavaCPP's JNI wrappers (which would also pull in the OpenCL preset). Constants are oneDNN's (see dnnl_types.h), inlined at
 * compile time from JavaCPP's {@code org.bytedeco.dnnl.global.dnnl}.
 */
final class Dnnl {
    static final int F16 = 1, BF16 = 2, F32 = 3, S32 = 4, S8 = 5, U8 = 6;
    static final int TAG_ANY = 1, TAG_AB = 3, TAG_BA = 14;
    static final int ARG_SRC = 1, ARG_DST = 17, ARG_WEIGHTS = 33, ARG_BIAS = 41, ARG_SCRATCHPAD = 80;
    static final int QUERY_IMPL_INFO_STR = 8, QUERY_WEIGHTS_MD = 131, QUERY_SCRATCHPAD_MD = 136;
    static final int SCRATCHPAD_MODE_USER = 1;
    static final int ENGINE_CPU = 1, STREAM_DEFAULT = 1;
    /** dnnl_cpu_isa_t bit sets. */
    static final int ISA_AVX2 = 0x7, ISA_AVX512_CORE = 0x27, ISA_AVX512_CORE_VNNI = 0x67, ISA_AVX512_CORE_BF16 = 0xe7, ISA_AVX512_CORE_AMX = 0xfef;

    private static final Linker LINKER = Linker.nativeLinker();

    final String libraryPath;
    final String version;
    final int isa;
    final MemorySegment engine;
    /**
     * Attributes of every matmul: user-managed scratchpad. With oneDNN's own (library) scratchpad a
     * primitive may only run on the thread that created it; ovis4j runs cached primitives from any
     * thread of its pool, each bringing its own scratchpad.
     */
    private final MemorySegment matmulAttr;

    private final MethodHandle mdCreateWithTag, mdCreateWithStrides, mdDestroy, mdGetSize, mdClone,
            memoryCreate, memoryDestroy, matmulPdCreate, reorderPdCreate, pdQueryMd, pdQuery, pdDestroy,
            primitiveCreate, primitiveExecute, primitiveDestroy, streamCreate, ompSetNumThreads;

    private Dnnl(SymbolLookup dnnl, SymbolLookup gomp, String libraryPath) throws Throwable {
        this.libraryPath = libraryPath;
        mdCreateWithTag = fn(dnnl, "dnnl_memory_desc_create_with_tag", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT);
        mdCreateWithStrides = fn(dnnl, "dnnl_memory_desc_create_with_strides", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
        mdDestroy = fn(dnnl, "dnnl_memory_desc_destroy", JAVA_INT, ADDRESS);
        mdGetSize = fn(dnnl, "dnnl_memory_desc_get_size", JAVA_LONG, ADDRESS);
        mdClone = fn(dnnl, "dnnl_memory_desc_clone", JAVA_INT, ADDRESS, ADDRESS);
        memoryCreate = fn(dnnl, "dnnl_memory_create", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        memoryDestroy = fn(dnnl, "dnnl_memory_destroy", JAVA_INT, ADDRESS);
        matmulPdCreate = fn(dnnl, "dnnl_matmul_primitive_desc_create", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        reorderPdCreate = fn(dnnl, "dnnl_reorder_primitive_desc_create", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        pdQueryMd = fn(dnnl, "dnnl_primitive_desc_query_md", ADDRESS, ADDRESS, JAVA_INT, JAVA_INT);
        pdQuery = fn(dnnl, "dnnl_primitive_desc_query", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS);
        pdDestroy = fn(dnnl, "dnnl_primitive_desc_destroy", JAVA_INT, ADDRESS);
        primitiveCreate = fn(dnnl, "dnnl_primitive_create", JAVA_INT, ADDRESS, ADDRESS);
        primitiveExecute = fn(dnnl, "dnnl_primitive_execute", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
        primitiveDestroy = fn(dnnl, "dnnl_primitive_destroy", JAVA_INT, ADDRESS);
        streamCreate = fn(dnnl, "dnnl_stream_create", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT);
        ompSetNumThreads = gomp == null ? null : LINKER.downcallHandle(gomp.find("omp_set_num_threads").orElseThrow(),
                FunctionDescriptor.ofVoid(JAVA_INT));

        MethodHandle isaFn = LINKER.downcallHandle(dnnl.find("dnnl_get_effective_cpu_isa").orElseThrow(), FunctionDescriptor.of(JAVA_INT));
        isa = (int) isaFn.invokeExact();
        MethodHandle versionFn = LINKER.downcallHandle(dnnl.find("dnnl_version").orElseThrow(), FunctionDescriptor.of(ADDRESS));
        MemorySegment v = ((MemorySegment) versionFn.invokeExact()).reinterpret(32);
        int runtime = v.get(JAVA_INT, 24);
        version = v.get(JAVA_INT, 0) + "." + v.get(JAVA_INT, 4) + "." + v.get(JAVA_INT, 8)
                + (runtime == 2 ? " (OpenMP)" : runtime == 4 ? " (TBB)" : runtime == 1 ? " (sequential)" : " (runtime " + runtime + ")");

        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            MethodHandle engineCreate = fn(dnnl, "dnnl_engine_create", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG);
            check((int) engineCreate.invokeExact(out, ENGINE_CPU, 0L), "dnnl_engine_create");
            engine = out.get(ADDRESS, 0);
            MethodHandle attrCreate = fn(dnnl, "dnnl_primitive_attr_create", JAVA_INT, ADDRESS);
            MethodHandle attrScratchpad = fn(dnnl, "dnnl_primitive_attr_set_scratchpad_mode", JAVA_INT, ADDRESS, JAVA_INT);
            check((int) attrCreate.invokeExact(out), "primitive_attr_create");
            matmulAttr = out.get(ADDRESS, 0);
            check((int) attrScratchpad.invokeExact(matmulAttr, SCRATCHPAD_MODE_USER), "primitive_attr_set_scratchpad_mode");
        }
    }

    private static MethodHandle fn(SymbolLookup lib, String name, java.lang.foreign.MemoryLayout ret, java.lang.foreign.MemoryLayout... args) {
        MemorySegment sym = lib.find(name).orElseThrow(() -> new OvisException("libdnnl has no symbol " + name));
        return LINKER.downcallHandle(sym, FunctionDescriptor.of(ret, args));
    }

    /**
     * Loads the library: sets libgomp's defaults for this process first (unless the user set them),
     * then lets JavaCPP extract and load the jar's libraries, then binds the C API.
     */
    static Dnnl load(int threads) {
        setenvIfUnset("OMP_NUM_THREADS", Integer.toString(threads));
        // libgomp's idle workers spin 300k iterations (~10 ms) by default, taking a core from the
        // Java kernels that run between two matmuls; keep the spin short.
        setenvIfUnset("GOMP_SPINCOUNT", "10000");
        String platform;
        java.io.File gomp, dnnl;
        try {
            Class<?> loader = Class.forName("org.bytedeco.javacpp.Loader");
            platform = (String) loader.getMethod("getPlatform").invoke(null);
            java.lang.reflect.Method cache = loader.getMethod("cacheResource", Class.class, String.class);
            String dir = "/org/bytedeco/dnnl/" + platform + "/";
            if (loader.getResource(dir + "libdnnl.so.3") == null)
                throw new OvisException("no oneDNN native library for " + platform
                        + " on the class path (the org.bytedeco:dnnl jar with classifier " + platform + ")");
            // libdnnl finds libgomp beside itself ($ORIGIN run path): extract both into JavaCPP's cache.
            gomp = loader.getResource(dir + "libgomp.so.1") == null ? null : (java.io.File) cache.invoke(null, loader, dir + "libgomp.so.1");
            dnnl = (java.io.File) cache.invoke(null, loader, dir + "libdnnl.so.3");
        } catch (ClassNotFoundException e) {
            throw new OvisException("the org.bytedeco javacpp jar is not on the class path");
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new OvisException("the oneDNN native library could not be extracted: " + oneLine(e.getCause()));
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new OvisException("the oneDNN native library could not be extracted: " + oneLine(e));
        }
        try {
            SymbolLookup gompLib = gomp == null ? null : SymbolLookup.libraryLookup(gomp.toPath(), Arena.global());
            SymbolLookup dnnlLib = SymbolLookup.libraryLookup(dnnl.toPath(), Arena.global());
            if (gompLib == null) gompLib = loaded("libgomp.so").map(p -> SymbolLookup.libraryLookup(Path.of(p), Arena.global())).orElse(null);
            return new Dnnl(dnnlLib, gompLib, dnnl.toString());
        } catch (OvisException e) {
            throw e;
        } catch (Throwable t) {
            throw new OvisException("the oneDNN native library " + dnnl + " did not load: " + oneLine(t));
        }
    }

    static String oneLine(Throwable t) {
        String m = t.getMessage() == null ? t.toString() : t.getMessage();
        return m.replace('\n', ' ').strip();
    }

    /** The path of a shared library this process has mapped whose file name starts with prefix. */
    private static Optional<String> loaded(String prefix) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash < 0) continue;
                String path = line.substring(slash);
                if (Path.of(path).getFileName().toString().startsWith(prefix)) return Optional.of(path);
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static void setenvIfUnset(String name, String value) {
        if (System.getenv(name) != null) return;
        try (Arena a = Arena.ofConfined()) {
            MethodHandle setenv = LINKER.downcallHandle(LINKER.defaultLookup().find("setenv").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
            int rc = (int) setenv.invokeExact(a.allocateFrom(name), a.allocateFrom(value), 0);
        } catch (Throwable ignored) {
            // only a default; oneDNN still works without it
        }
    }

    static void check(int status, String what) {
        if (status != 0) throw new OvisException("oneDNN " + what + " failed: " + statusName(status));
    }

    static String statusName(int s) {
        return switch (s) {
            case 1 -> "out of memory";
            case 2 -> "invalid arguments";
            case 3 -> "unimplemented";
            case 5 -> "runtime error";
            case 7 -> "not required";
            default -> "status " + s;
        };
    }

    // ---- thin wrappers (each throws OvisException on a non-success status) ----

    void setThreads(int n) {
        if (ompSetNumThreads == null) return;
        try {
            ompSetNumThreads.invokeExact(n);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    MemorySegment mdTag(Arena a, long[] dims, int type, int tag) {
        MemorySegment out = a.allocate(ADDRESS);
        try {
            check((int) mdCreateWithTag.invokeExact(out, dims.length, a.allocateFrom(JAVA_LONG, dims), type, tag), "memory_desc_create_with_tag");
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    MemorySegment mdStrides(Arena a, long[] dims, int type, long[] strides) {
        MemorySegment out = a.allocate(ADDRESS);
        try {
            check((int) mdCreateWithStrides.invokeExact(out, dims.length, a.allocateFrom(JAVA_LONG, dims), type,
                    a.allocateFrom(JAVA_LONG, strides)), "memory_desc_create_with_strides");
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    MemorySegment mdClone(Arena a, MemorySegment md) {
        MemorySegment out = a.allocate(ADDRESS);
        try {
            check((int) mdClone.invokeExact(out, md), "memory_desc_clone");
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    void mdDestroy(MemorySegment md) {
        try {
            int rc = (int) mdDestroy.invokeExact(md);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    long mdSize(MemorySegment md) {
        try {
            return (long) mdGetSize.invokeExact(md);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    MemorySegment memory(Arena a, MemorySegment md, MemorySegment handle) {
        MemorySegment out = a.allocate(ADDRESS);
        try {
            check((int) memoryCreate.invokeExact(out, md, engine, handle), "memory_create");
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    void memoryDestroy(MemorySegment mem) {
        try {
            int rc = (int) memoryDestroy.invokeExact(mem);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /**
     * A matmul primitive descriptor with a user-managed scratchpad ({@link #scratchpadMd}), or NULL
     * when oneDNN has no implementation for it.
     */
    MemorySegment matmulPd(Arena a, MemorySegment src, MemorySegment wei, MemorySegment bias, MemorySegment dst) {
        MemorySegment out = a.allocate(ADDRESS);
        try {
            int s = (int) matmulPdCreate.invokeExact(out, engine, src, wei, bias, dst, matmulAttr);
            if (s == 3) return MemorySegment.NULL;
            check(s, "matmul_primitive_desc_create");
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    MemorySegment reorderPd(Arena a, MemorySegment src, MemorySegment dst) {
        MemorySegment out = a.allocate(ADDRESS);
        try {
            check((int) reorderPdCreate.invokeExact(out, src, engine, dst, engine, MemorySegment.NULL), "reorder_primitive_desc_create");
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    MemorySegment weightsMd(MemorySegment pd) {
        try {
            return (MemorySegment) pdQueryMd.invokeExact(pd, QUERY_WEIGHTS_MD, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A copy of the scratchpad descriptor of a primitive descriptor (size 0 when it needs none). */
    MemorySegment scratchpadMd(Arena a, MemorySegment pd) {
        try {
            return mdClone(a, (MemorySegment) pdQueryMd.invokeExact(pd, QUERY_SCRATCHPAD_MD, 0));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    String implInfo(MemorySegment pd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int s = (int) pdQuery.invokeExact(pd, QUERY_IMPL_INFO_STR, 0, out);
            if (s != 0) return "?";
            return out.get(ADDRESS, 0).reinterpret(256).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void pdDestroy(MemorySegment pd) {
        try {
            int rc = (int) pdDestroy.invokeExact(pd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    MemorySegment primitive(Arena a, MemorySegment pd) {
        MemorySegment out = a.allocate(ADDRESS);
        try {
            check((int) primitiveCreate.invokeExact(out, pd), "primitive_create");
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return out.get(ADDRESS, 0);
    }

    /** args: dnnl_exec_arg_t[n] = {int arg; dnnl_memory_t memory;} (16 bytes each). */
    void execute(MemorySegment primitive, MemorySegment stream, int n, MemorySegment args) {
        try {
            check((int) primitiveExecute.invokeExact(primitive, stream, n, args), "primitive_execute");
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    void primitiveDestroy(MemorySegment p) {
        try {
            int rc = (int) primitiveDestroy.invokeExact(p);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    MemorySegment stream() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) streamCreate.invokeExact(out, engine, STREAM_DEFAULT), "stream_create");
            return out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new OvisException("oneDNN call failed: " + oneLine(t));
    }
}
