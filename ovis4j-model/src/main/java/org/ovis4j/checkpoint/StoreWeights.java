package org.ovis4j.checkpoint;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * {@link Weights} over a {@link TensorStore}: an optional key prefix (e.g. {@code llm.model.}), an
 * optional {@link NameMap} for another layout's names, and an optional compute dtype that float
 * matrices are converted to once, on first use (e.g. f32 checkpoints run in bf16).
 */
public final class StoreWeights implements Weights {
    private final TensorStore store;
    private final String prefix;
    private final NameMap map;
    private final DType computeType;
    private final Map<String, Tensor> converted = new ConcurrentHashMap<>();

    public StoreWeights(TensorStore store) {
        this(store, "", null, null);
    }

    public StoreWeights(TensorStore store, String prefix, NameMap map, DType computeType) {
        this.store = store;
        this.prefix = prefix;
        this.map = map;
        this.computeType = computeType;
    }

    @Override
    public String origin() {
        return store.origin();
    }

    @Override
    public boolean has(String name) {
        List<NameMap.Part> parts = map == null ? null : map.lookup(name);
        if (parts == null) return store.has(prefix + name);
        return parts.stream().allMatch(p -> store.has(prefix + p.source()));
    }

    @Override
    public Tensor get(String name) {
        List<NameMap.Part> parts = map == null ? null : map.lookup(name);
        if (parts == null) return compute(stored(prefix + name));
        if (parts.size() == 1) return compute(slice(parts.get(0)));
        // Stacking parts needs a copy; the models ask for row blocks instead, so this serves tools only.
        long rows = 0;
        for (NameMap.Part p : parts) rows += slice(p).dim(0);
        Tensor first = slice(parts.get(0));
        long[] shape = first.shape();
        shape[0] = rows;
        long rowBytes = first.data().byteSize() / first.dim(0);
        Arena arena = store.arena();
        var seg = arena.allocate(rows * rowBytes, 64);
        long at = 0;
        for (NameMap.Part p : parts) {
            Tensor t = slice(p);
            if (t.dtype() != first.dtype()) throw new OvisException(origin() + ": parts of " + name + " differ in dtype");
            seg.asSlice(at, t.data().byteSize()).copyFrom(t.data());
            at += t.data().byteSize();
        }
        return compute(new Tensor(name, first.dtype(), shape, seg));
    }

    @Override
    public Tensor rows(String name, long from, long to) {
        List<NameMap.Part> parts = map == null ? null : map.lookup(name);
        if (parts == null) return compute(checkRows(stored(prefix + name), from, to).rows(from, to));
        long at = 0;
        for (NameMap.Part p : parts) {
            Tensor t = slice(p);
            long n = t.dim(0);
            if (from >= at && to <= at + n) return compute(t.rows(from - at, to - at));
            at += n;
        }
        throw new OvisException(origin() + ": rows [" + from + ", " + to + ") of " + name + " span several stored tensors");
    }

    /**
     * A stored tensor; an int8 matrix with a companion {@code <name>_scale} is Q8_0 (written by
     * {@code ovis4j quantize}) and comes back with its block scales attached.
     */
    private Tensor stored(String storedName) {
        Tensor t = store.get(storedName);
        String scales = storedName + Q8_SCALE_SUFFIX;
        if (t.dtype() == DType.I8 && store.has(scales)) return t.withBlockScales(store.get(scales));
        return t;
    }

    /** Suffix of the tensor holding a Q8_0 matrix's block scales. */
    public static final String Q8_SCALE_SUFFIX = "_scale";

    private Tensor checkRows(Tensor t, long from, long to) {
        if (from < 0 || to > t.dim(0) || from > to)
            throw new OvisException(origin() + ": " + t.name() + " has " + t.dim(0) + " rows, needed [" + from + ", " + to + ")");
        return t;
    }

    private Tensor slice(NameMap.Part p) {
        Tensor t = stored(prefix + p.source());
        if (p.count() < 0) return t;
        return checkRows(t, p.from(), p.from() + p.count()).rows(p.from(), p.from() + p.count());
    }

    private Tensor compute(Tensor t) {
        if (computeType == null || t.dtype() == computeType || !t.dtype().isFloat() || t.rank() < 2) return t;
        return converted.computeIfAbsent(t.name() + "@" + t.data().address(), k -> t.convert(computeType, store.arena()));
    }
}
