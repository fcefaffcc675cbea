package org.ovis4j.core.kernel;

import java.util.function.Consumer;
import org.ovis4j.core.OvisException;

/**
 * Chooses the {@link MatmulBackend} once per process: the system property {@code ovis4j.backend}
 * (or env {@code OVIS4J_BACKEND}) = {@code auto} (default), {@code java} or {@code onednn}. Native
 * backends are found by class name so that the core needs none of their libraries; "auto" uses one
 * only where it loads and the CPU suits it, and otherwise says why once and uses java.
 */
public final class MatmulBackends {
    private static final String ONEDNN = "org.ovis4j.onednn.OneDnnMatmul";
    private static volatile MatmulBackend current;
    /** Notices are information, not errors: "ovis4j: note: ..." (errors are "ovis4j: ..."). */
    private static volatile Consumer<String> notices = msg -> System.err.println("ovis4j: note: " + msg);

    private MatmulBackends() {}

    /** Where the one-time notices go (default stderr). */
    public static void notices(Consumer<String> sink) {
        notices = sink;
    }

    public static MatmulBackend current() {
        MatmulBackend b = current;
        if (b == null) {
            synchronized (MatmulBackends.class) {
                if (current == null) current = choose(requested());
                b = current;
            }
        }
        return b;
    }

    /** The process's backend if it takes this weight's type, else java (which takes every type). */
    public static MatmulBackend forWeight(org.ovis4j.core.tensor.Tensor weight) {
        MatmulBackend b = current();
        return b.supports(weight) ? b : JavaMatmul.INSTANCE;
    }

    /**
     * The backend for a run that must compute in float32 throughout (the parity mode): "auto" means
     * java there, since native backends round activations to bf16 for bf16 weights.
     */
    public static synchronized void selectExactFloat32(String name) {
        if (name.equals("auto")) name = "java";
        else if (!name.equals("java"))
            throw new OvisException("backend " + name + " rounds activations to bf16; float32 precision needs the java backend");
        current = choose(name);
    }

    /** Forces a backend by name before any layer is prepared (e.g. from {@code --backend}). */
    public static synchronized void select(String name) {
        current = choose(name);
    }

    /** The name asked for by the system property or environment, "auto" when neither is set. */
    public static String requested() {
        String p = System.getProperty("ovis4j.backend");
        if (p == null) p = System.getenv("OVIS4J_BACKEND");
        return p == null || p.isBlank() ? "auto" : p.trim().toLowerCase();
    }

    private static MatmulBackend choose(String name) {
        return switch (name) {
            case "java" -> JavaMatmul.INSTANCE;
            case "onednn" -> {
                MatmulBackend b = tryLoad(ONEDNN);
                if (b == null) throw new OvisException("backend onednn is not available: " + lastFailure);
                yield b;
            }
            case "auto" -> {
                MatmulBackend b = tryLoad(ONEDNN);
                if (b == null && lastFailure != null && !lastFailure.startsWith("not on the class path"))
                    notices.accept("oneDNN backend unavailable (" + lastFailure + "); using java");
                yield b != null ? b : JavaMatmul.INSTANCE;
            }
            default -> throw new OvisException("unknown backend \"" + name + "\" (expected auto, java or onednn)");
        };
    }

    private static String lastFailure;

    /** The backend's public no-argument {@code create()} returns it, or throws with the reason it cannot run here. */
    private static MatmulBackend tryLoad(String className) {
        try {
            Class<?> c = Class.forName(className);
            return (MatmulBackend) c.getMethod("create").invoke(null);
        } catch (ClassNotFoundException e) {
            lastFailure = "not on the class path";
        } catch (java.lang.reflect.InvocationTargetException e) {
            lastFailure = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e);
        } catch (ReflectiveOperationException | LinkageError e) {
            lastFailure = e.toString();
        }
        return null;
    }
}
