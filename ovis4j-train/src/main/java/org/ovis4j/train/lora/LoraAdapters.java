package org.ovis4j.train.lora;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.ovis4j.core.OvisException;
import org.ovis4j.train.dit.Adapters;
import org.ovis4j.train.dit.DenseProjection;
import org.ovis4j.train.dit.Projection;
import org.ovis4j.train.param.Parameter;

/**
 * LoRA on chosen modules of a model being built (peft semantics: scale = alpha / rank, no dropout):
 * each module named in {@code weights} gets a {@link LoraProjection} whose A and B are trainable
 * parameters {@code <module>.lora_A.weight} [r, in] and {@code <module>.lora_B.weight} [out, r];
 * other modules stay as they are. Build the model with its base frozen for LoRA training. The
 * diffusers LoRA file format is read and written by the model module's {@link org.ovis4j.lora.LoraFile}
 * (a checkpoint format, beside the loaders); this takes the arrays it holds.
 */
public final class LoraAdapters implements Adapters {
    /** One module's adapter values, row-major: A [rank, in], B [out, rank]. */
    public record Weights(float[] a, float[] b) {}

    private final int rank;
    private final float scale;
    private final Map<String, Weights> byModule;
    private final Set<String> applied = new LinkedHashSet<>();

    public LoraAdapters(int rank, double alpha, Map<String, Weights> byModule) {
        if (rank <= 0) throw new OvisException("LoRA: rank must be positive, got " + rank);
        this.rank = rank;
        this.scale = (float) (alpha / rank);
        this.byModule = new LinkedHashMap<>(byModule);
    }

    public float scale() {
        return scale;
    }

    @Override
    public Projection adapt(DenseProjection base) {
        Weights w = byModule.get(base.module());
        if (w == null) return base;
        String m = base.module();
        if (w.a().length != rank * base.in() || w.b().length != base.out() * rank)
            throw new OvisException("LoRA for " + m + ": expected A [" + rank + ", " + base.in() + "] and B [" + base.out() + ", "
                    + rank + "], got " + w.a().length + " and " + w.b().length + " values");
        Parameter a = Parameter.trainable(m + ".lora_A.weight", new long[] {rank, base.in()}, w.a().clone());
        Parameter b = Parameter.trainable(m + ".lora_B.weight", new long[] {base.out(), rank}, w.b().clone());
        applied.add(m);
        return new LoraProjection(base, new LoraAdapter(a, b, scale));
    }

    @Override
    public void finish() {
        for (String m : byModule.keySet())
            if (!applied.contains(m)) throw new OvisException("LoRA: the model has no linear module named " + m);
    }
}
