package org.ovis4j.train.lora;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.train.data.SeededRandom;
import org.ovis4j.train.dit.Adapters;
import org.ovis4j.train.dit.DenseProjection;
import org.ovis4j.train.dit.Projection;
import org.ovis4j.train.param.Parameter;

/**
 * Fresh LoRA adapters on the modules a peft {@code target_modules} list names, initialised as peft's
 * default ({@code init_lora_weights=True}): A from {@code kaiming_uniform_(a=√5)}, i.e.
 * U(−1/√in, 1/√in), and B = 0, so that training starts from the base model exactly. A target matches a
 * module path when it is the path or a dotted suffix of it ({@code to_q} matches
 * {@code transformer_blocks.0.attn.to_q}; {@code attn.to_out.0} matches both blocks' {@code to_out.0}),
 * as peft's {@code check_target_module_exists} does; every target must match at least one module.
 * A's values depend only on the seed and the module path.
 */
public final class LoraTargets implements Adapters {
    /** Purpose word of the A-initialisation streams. */
    private static final long INIT_A = 12;

    private final int rank;
    private final float scale;
    private final List<String> targets;
    private final long seed;
    private final Map<String, Integer> matches = new LinkedHashMap<>();

    public LoraTargets(int rank, double alpha, List<String> targets, long seed) {
        if (rank <= 0) throw new OvisException("LoRA: rank must be positive, got " + rank);
        if (!(alpha > 0)) throw new OvisException("LoRA: alpha must be positive, got " + alpha);
        if (targets.isEmpty()) throw new OvisException("LoRA: no target modules");
        this.rank = rank;
        this.scale = (float) (alpha / rank);
        this.targets = List.copyOf(targets);
        this.seed = seed;
        for (String t : targets) matches.put(t, 0);
    }

    /** Whether {@code target} names {@code module} in peft's sense. */
    public static boolean matches(String target, String module) {
        return module.equals(target) || module.endsWith("." + target);
    }

    @Override
    public Projection adapt(DenseProjection base) {
        String m = base.module();
        boolean hit = false;
        for (String t : targets)
            if (matches(t, m)) {
                matches.merge(t, 1, Integer::sum);
                hit = true;
            }
        if (!hit) return base;
        float[] a = new float[rank * base.in()];
        SeededRandom r = new SeededRandom(SeededRandom.derive(seed, INIT_A, SeededRandom.hash(m)));
        double bound = 1 / Math.sqrt(base.in());
        for (int i = 0; i < a.length; i++) a[i] = (float) (bound * (2 * r.nextDouble() - 1));
        Parameter pa = Parameter.trainable(m + ".lora_A.weight", new long[] {rank, base.in()}, a);
        Parameter pb = Parameter.trainable(m + ".lora_B.weight", new long[] {base.out(), rank}, new float[base.out() * rank]);
        return new LoraProjection(base, new LoraAdapter(pa, pb, scale));
    }

    @Override
    public void finish() {
        List<String> none = new ArrayList<>();
        matches.forEach((t, n) -> {
            if (n == 0) none.add(t);
        });
        if (!none.isEmpty()) throw new OvisException("LoRA: target module \"" + none.get(0) + "\" matches no linear module of the transformer");
    }
}
