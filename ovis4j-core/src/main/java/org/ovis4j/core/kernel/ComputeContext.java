package org.ovis4j.core.kernel;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.DenseProjection.Storage;
import org.ovis4j.core.tensor.Tensor;

/**
 * The choice of kernels a model is built with: the matmul backend, the attention kernel, and
 * whether every product must stay float32. Created once (by the caller, usually from
 * {@code --backend}) and given to a model when it is loaded; immutable, so two models in one JVM
 * (an fp32 and a bf16 one, a policy and its reference) never change each other's kernels.
 *
 * <p>Backends by name: {@code java} (the Vector API kernels, everywhere), {@code onednn} (found by
 * class name, so that the core needs none of its libraries; an error where it cannot run) and
 * {@code auto}, which uses oneDNN where it loads and the CPU suits it and otherwise says why once
 * and uses java. A native backend is one process-wide instance (its library and primitive cache);
 * it holds no state of any model, so contexts share it.
 */
public final class ComputeContext {
    private static final String ONEDNN = "org.ovis4j.onednn.OneDnnMatmul";
    /** Notices are information, not errors: "ovis4j: note: ..." (errors are "ovis4j: ..."). */
    private static final Consumer<String> STDERR_NOTICES = msg -> System.err.println("ovis4j: note: " + msg);
    /**
     * Notices already given. Why a native backend does not load cannot change while the process
     * runs, so each is said once however many contexts are created.
     */
    private static final Set<String> SAID = ConcurrentHashMap.newKeySet();

    /** The portable float32 kernels: java matmuls and attention, nothing rounded (the parity mode). */
    public static final ComputeContext JAVA = new ComputeContext(JavaMatmul.INSTANCE, Attention.JAVA, true);

    private final MatmulBackend backend;
    private final AttentionKernel attention;
    private final boolean exactFloat32;

    private ComputeContext(MatmulBackend backend, AttentionKernel attention, boolean exactFloat32) {
        this.backend = backend;
        this.attention = attention;
        this.exactFloat32 = exactFloat32;
    }

    /** As {@link #create(String, boolean, Consumer)} with notices on stderr. */
    public static ComputeContext create(String backendName, boolean exactFloat32) {
        return create(backendName, exactFloat32, STDERR_NOTICES);
    }

    /**
     * The context for a backend name ({@code auto}, {@code java} or {@code onednn}).
     *
     * @param exactFloat32 every product in float32 (the parity mode): "auto" then means java, and
     *                     onednn is refused, since native backends round activations to bf16 for
     *                     bf16 weights; attention is the Java float32 kernel
     * @param notices      where a one-time notice goes (auto falling back to java, with the reason)
     */
    public static ComputeContext create(String backendName, boolean exactFloat32, Consumer<String> notices) {
        String name = backendName.trim().toLowerCase();
        if (exactFloat32) {
            if (name.equals("auto")) name = "java";
            else if (!name.equals("java"))
                throw new OvisException("backend " + name + " rounds activations to bf16; float32 precision needs the java backend");
        }
        MatmulBackend backend = choose(name, notices);
        // -Dovis4j.attention=java: the Java kernel whatever the backend (to compare, or as a way out).
        boolean javaAttention = exactFloat32 || "java".equalsIgnoreCase(System.getProperty("ovis4j.attention", ""));
        return new ComputeContext(backend, javaAttention ? Attention.JAVA : backend.attention(), exactFloat32);
    }

    /** The backend name asked for by the system property {@code ovis4j.backend} or env {@code OVIS4J_BACKEND}, else "auto". */
    public static String requestedBackend() {
        String p = System.getProperty("ovis4j.backend");
        if (p == null) p = System.getenv("OVIS4J_BACKEND");
        return p == null || p.isBlank() ? "auto" : p.trim().toLowerCase();
    }

    public MatmulBackend backend() { return backend; }
    public AttentionKernel attention() { return attention; }
    /** True when every product is float32 (java backend, Java attention). */
    public boolean exactFloat32() { return exactFloat32; }

    /** A layer packed on this context's backend ({@link Storage#PACKED}). */
    public Projection projection(Tensor weight, Tensor bias) {
        return projection(weight, bias, Storage.PACKED);
    }

    /**
     * A layer y = x·Wᵀ + b over W [out, in] (bias may be null) stored as asked. Packed layers use
     * this context's backend where it takes the weight's type (oneDNN takes float types, not Q8_0)
     * and java otherwise; int8 needs a backend with an int8 matmul and fails here, at build time,
     * without one.
     */
    public Projection projection(Tensor weight, Tensor bias, Storage storage) {
        MatmulBackend b = switch (storage) {
            case IN_PLACE -> JavaMatmul.INSTANCE;
            case PACKED -> backend.supports(weight) ? backend : JavaMatmul.INSTANCE;
            case INT8 -> {
                if (!backend.hasInt8())
                    throw new OvisException("int8 needs a backend with an int8 matmul (onednn on a CPU with AMX or VNNI); "
                            + backend.name() + " has none");
                yield backend;
            }
        };
        return new DenseProjection(weight, bias, b, storage);
    }

    @Override
    public String toString() {
        return backend.name() + " backend" + (exactFloat32 ? ", exact float32" : "")
                + (attention == Attention.JAVA ? ", java attention" : ", " + backend.name() + " attention");
    }

    private static MatmulBackend choose(String name, Consumer<String> notices) {
        return switch (name) {
            case "java" -> JavaMatmul.INSTANCE;
            case "onednn" -> {
                Loaded l = load(ONEDNN);
                if (l.backend == null) throw new OvisException("backend onednn is not available: " + l.failure);
                yield l.backend;
            }
            case "auto" -> {
                Loaded l = load(ONEDNN);
                if (l.backend == null && !l.failure.startsWith("not on the class path")) {
                    String msg = "oneDNN backend unavailable (" + l.failure + "); using java";
                    if (SAID.add(msg)) notices.accept(msg);
                }
                yield l.backend != null ? l.backend : JavaMatmul.INSTANCE;
            }
            default -> throw new OvisException("unknown backend \"" + name + "\" (expected auto, java or onednn)");
        };
    }

    /** A native backend, or why it cannot run here. */
    private record Loaded(MatmulBackend backend, String failure) {}

    /**
     * The backend class's public no-argument {@code create()} returns its process-wide instance, or
     * throws with the reason it cannot run here.
     */
    private static Loaded load(String className) {
        try {
            Class<?> c = Class.forName(className);
            return new Loaded((MatmulBackend) c.getMethod("create").invoke(null), null);
        } catch (ClassNotFoundException e) {
            return new Loaded(null, "not on the class path");
        } catch (java.lang.reflect.InvocationTargetException e) {
            return new Loaded(null, String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e));
        } catch (ReflectiveOperationException | LinkageError e) {
            return new Loaded(null, e.toString());
        }
    }
}
