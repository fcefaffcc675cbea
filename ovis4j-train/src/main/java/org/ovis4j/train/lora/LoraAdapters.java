package org.ovis4j.train.lora;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.Tensor;
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

    private static final String A = ".lora_A.weight", B = ".lora_B.weight";

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

    /**
     * The adapters held in {@code tensors} under diffusers' LoRA names, {@code <prefix><module>.lora_A.weight}
     * and {@code .lora_B.weight} (prefix {@code "transformer."}), by module in file order; empty if there are
     * none. A training batch carries them next to its inputs (goldens README 9.4, 9.7).
     */
    public static Map<String, Weights> stored(Map<String, Tensor> tensors, String prefix) {
        Map<String, Weights> m = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String k = e.getKey();
            if (!k.startsWith(prefix) || !k.endsWith(A)) continue;
            String module = k.substring(prefix.length(), k.length() - A.length());
            Tensor b = tensors.get(prefix + module + B);
            if (b == null) throw new OvisException("LoRA " + module + ": " + k + " has no " + prefix + module + B);
            m.put(module, new Weights(e.getValue().toFloats(), b.toFloats()));
        }
        for (String k : tensors.keySet())
            if (k.startsWith(prefix) && k.endsWith(B) && !m.containsKey(k.substring(prefix.length(), k.length() - B.length())))
                throw new OvisException("LoRA: " + k + " has no " + k.substring(0, k.length() - B.length()) + A);
        return m;
    }

    /** The rank of stored adapters: the rows of their A matrices, which must agree. */
    public static int storedRank(Map<String, Tensor> tensors, String prefix) {
        int rank = -1;
        for (Map.Entry<String, Tensor> e : tensors.entrySet())
            if (e.getKey().startsWith(prefix) && e.getKey().endsWith(A)) {
                int r = Math.toIntExact(e.getValue().dim(0));
                if (rank >= 0 && r != rank) throw new OvisException("LoRA: " + e.getKey() + " has rank " + r + ", other adapters " + rank);
                rank = r;
            }
        if (rank < 0) throw new OvisException("LoRA: no " + prefix + "<module>" + A + " tensors");
        return rank;
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
