package org.ovis4j.checkpoint;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.kernel.DenseProjection.Storage;
import org.ovis4j.core.kernel.LoraProjection;
import org.ovis4j.core.kernel.Projection;
import org.ovis4j.core.tensor.ParameterSpec;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.lora.LoraAdapter;

/**
 * The linear modules of one model component while it is built: each diffusers module name becomes
 * a {@link Projection} over the component's {@link Weights}, on its {@link ComputeContext}, in the
 * storage chosen for that module, checked against the component's parameter walk, and wrapped in
 * the LoRA adapters given for it.
 *
 * <p>The dense bases are made once per (module, row block) and kept here, so a second model built
 * from {@link #withAdapters} (a LoRA'd policy beside its frozen reference, or the same weights at
 * another LoRA scale) multiplies by the same prepared weights instead of packing them again.
 */
public final class Projections {
    private final String component;
    private final Weights weights;
    private final ComputeContext context;
    private final Map<String, ParameterSpec> walk;
    private final Function<String, Storage> storage;
    private final Map<String, Projection> bases;
    private final Map<String, List<LoraAdapter>> adapters;

    /**
     * @param component what the modules belong to, for messages ("transformer")
     * @param walk      the component's parameters (names as {@code weights} takes them)
     * @param storage   how each module (by name) holds its weights
     */
    public Projections(String component, Weights weights, ComputeContext context, List<ParameterSpec> walk,
                       Function<String, Storage> storage) {
        this(component, weights, context, index(walk), storage, new ConcurrentHashMap<>(), Map.of());
    }

    private Projections(String component, Weights weights, ComputeContext context, Map<String, ParameterSpec> walk,
                        Function<String, Storage> storage, Map<String, Projection> bases, Map<String, List<LoraAdapter>> adapters) {
        this.component = component;
        this.weights = weights;
        this.context = context;
        this.walk = walk;
        this.storage = storage;
        this.bases = bases;
        this.adapters = adapters;
    }

    private static Map<String, ParameterSpec> index(List<ParameterSpec> walk) {
        Map<String, ParameterSpec> m = new LinkedHashMap<>();
        for (ParameterSpec p : walk) m.put(p.name(), p);
        return m;
    }

    public Weights weights() { return weights; }
    public ComputeContext context() { return context; }

    /**
     * The same modules over the same bases, with these adapters (several for one module stack, in
     * order) in place of any this one has. Each must name a linear module of the walk and match its
     * shape: errors are one line naming the adapter.
     */
    public Projections withAdapters(List<LoraAdapter> list) {
        Map<String, List<LoraAdapter>> byModule = new LinkedHashMap<>();
        for (LoraAdapter a : list) {
            ParameterSpec w = walk.get(a.module() + ".weight");
            if (w == null || w.kind() != ParameterSpec.Kind.LINEAR_WEIGHT)
                throw new OvisException("lora: the " + component + " has no linear module \"" + a.module() + "\"");
            long[] s = w.shape();
            if (a.out() != s[0] || a.in() != s[1])
                throw new OvisException("lora " + a.module() + ": adapter is [" + a.out() + ", " + a.in() + "] (rank " + a.rank()
                        + "), the module's weight is " + Arrays.toString(s));
            byModule.computeIfAbsent(a.module(), k -> new ArrayList<>()).add(a);
        }
        return new Projections(component, weights, context, walk, storage, bases, Map.copyOf(byModule));
    }

    /** The whole module: {@code module.weight} [out, in] and {@code module.bias} where the walk has one. */
    public Projection of(String module) {
        ParameterSpec spec = linear(module);
        Projection p = bases.computeIfAbsent(module, m -> {
            Tensor bias = walk.containsKey(m + ".bias") ? weights.get(m + ".bias") : null;
            return context.projection(weights.get(m + ".weight").expectShape(spec.shape()), bias, storage.apply(m));
        });
        for (LoraAdapter a : adapters.getOrDefault(module, List.of())) p = new LoraProjection(p, a.a(), a.b(), a.rank(), a.scale());
        return p;
    }

    /**
     * Output rows [from, to) of the module (e.g. the up or gate half of a fused SwiGLU input), with
     * the same rows of its bias and of each adapter's B; A is shared by the halves.
     */
    public Projection rows(String module, long from, long to) {
        ParameterSpec spec = linear(module);
        long[] s = spec.shape();
        if (from < 0 || to > s[0] || from >= to)
            throw new IllegalArgumentException(module + ": rows [" + from + ", " + to + ") of " + s[0]);
        Projection p = bases.computeIfAbsent(module + "[" + from + ":" + to + ")", k -> {
            Tensor bias = walk.containsKey(module + ".bias") ? weights.rows(module + ".bias", from, to) : null;
            Tensor weight = weights.rows(module + ".weight", from, to).expectShape(to - from, s[1]);
            return context.projection(weight, bias, storage.apply(module));
        });
        for (LoraAdapter a : adapters.getOrDefault(module, List.of())) {
            int r = a.rank();
            float[] b = Arrays.copyOfRange(a.b(), Math.toIntExact(from * r), Math.toIntExact(to * r));
            p = new LoraProjection(p, a.a(), b, r, a.scale());
        }
        return p;
    }

    private ParameterSpec linear(String module) {
        ParameterSpec spec = walk.get(module + ".weight");
        if (spec == null || spec.kind() != ParameterSpec.Kind.LINEAR_WEIGHT)
            throw new IllegalArgumentException("the " + component + " walk has no linear module " + module);
        return spec;
    }
}
