package org.ovis4j.train.param;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.Widen;
import org.ovis4j.core.safetensors.FloatEncoder;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * The named parameters of a model under training, in the order the model declared them (diffusers
 * names). The one walk over a model's parameters: the optimizer, gradient clipping, LoRA targeting,
 * checkpoint writing and parameter counts all iterate this.
 */
public final class Parameters implements Iterable<Parameter> {
    private final Map<String, Parameter> byName = new LinkedHashMap<>();

    public Parameter add(Parameter p) {
        if (byName.putIfAbsent(p.name(), p) != null) throw new IllegalArgumentException("parameter " + p.name() + " declared twice");
        return p;
    }

    public Parameter get(String name) {
        Parameter p = byName.get(name);
        if (p == null) throw new OvisException("no parameter named " + name);
        return p;
    }

    public boolean has(String name) {
        return byName.containsKey(name);
    }

    public int count() {
        return byName.size();
    }

    /** Number of scalar values (all, or trainable only). */
    public long numel(boolean trainableOnly) {
        long n = 0;
        for (Parameter p : byName.values()) if (!trainableOnly || p.trainable()) n += p.size();
        return n;
    }

    public List<Parameter> trainable() {
        List<Parameter> t = new ArrayList<>();
        for (Parameter p : byName.values()) if (p.trainable()) t.add(p);
        return Collections.unmodifiableList(t);
    }

    public void zeroGrad() {
        for (Parameter p : byName.values()) p.zeroGrad();
    }

    @Override
    public Iterator<Parameter> iterator() {
        return Collections.unmodifiableCollection(byName.values()).iterator();
    }

    /**
     * Writes every parameter's values (float32, or {@code dtype}) as a safetensors file, atomically;
     * a stored parameter's tensor is widened and converted stretch by stretch as it is written.
     */
    public void write(Path file, DType dtype, Map<String, String> metadata) {
        SafetensorsWriter w = new SafetensorsWriter();
        for (Parameter p : byName.values()) {
            if (p.stored() == null) {
                w.addFloats(p.name(), dtype, p.shape(), p.value());
                continue;
            }
            Tensor t = p.stored();
            w.add(p.name(), dtype, p.shape(), out -> {
                float[] buf = new float[(int) Math.min(t.numel(), 1 << 16)];
                for (long at = 0; at < t.numel(); at += buf.length) {
                    int c = (int) Math.min(buf.length, t.numel() - at);
                    Widen.read(t, at, buf, 0, c);
                    FloatEncoder.write(buf, 0, c, dtype, out);
                }
            });
        }
        if (metadata != null) metadata.forEach(w::metadata);
        w.write(file);
    }
}
