package org.ovis4j.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.checkpoint.StoreWeights;
import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.lora.LoraAdapter;
import org.ovis4j.testing.Goldens;

/**
 * LoRA adapters on the tiny transformer: a model with adapters equals the model whose weights have
 * the updates merged in (W + scale·B·A), an adapter of scale 0 changes no bit, and the base model is
 * untouched by the adapted one built over it.
 */
class TransformerLoraTest {
    private static final int IMG = 6, TXT = 5;

    /** Whole modules, row-split ones (SwiGLU inputs, the output modulation), AdaLN and embedders, and two adapters on one module. */
    private static final String[] TARGETS = {
        "x_embedder", "context_embedder", "transformer_blocks.0.norm1.linear", "transformer_blocks.0.attn.to_q",
        "transformer_blocks.1.attn.add_v_proj", "transformer_blocks.1.ff.net.0.proj", "transformer_blocks.1.ff_context.net.2",
        "single_transformer_blocks.0.proj_mlp", "single_transformer_blocks.0.attn.to_k", "single_transformer_blocks.0.attn.to_k",
        "single_transformer_blocks.1.proj_out", "norm_out.linear", "proj_out"};

    static List<LoraAdapter> adapters(TransformerConfig cfg, float scale, long seed) {
        Map<String, long[]> shapes = new HashMap<>();
        for (var p : cfg.parameters()) shapes.put(p.name(), p.shape());
        Random r = new Random(seed);
        List<LoraAdapter> out = new ArrayList<>();
        int rank = 1;
        for (String m : TARGETS) {
            long[] s = shapes.get(m + ".weight");
            int o = (int) s[0], in = (int) s[1];
            rank = rank % 7 + 2; // ranks 3, 6, 2, 4, 7, 3, ... with in and out up to 256
            float[] a = new float[rank * in], b = new float[o * rank];
            for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() / Math.sqrt(in));
            for (int i = 0; i < b.length; i++) b[i] = (float) (r.nextGaussian() * 0.3);
            out.add(new LoraAdapter(m, rank, a, b, scale));
        }
        return out;
    }

    /** The checkpoint's weights with each adapter's update merged in, in double then rounded once. */
    static Weights merged(Weights base, List<LoraAdapter> adapters, Arena arena) {
        Map<String, Tensor> merged = new HashMap<>();
        for (LoraAdapter ad : adapters) {
            String name = ad.module() + ".weight";
            Tensor prior = merged.containsKey(name) ? merged.get(name) : base.get(name);
            float[] w = prior.toFloats();
            int in = ad.in(), out = ad.out(), r = ad.rank();
            for (int o = 0; o < out; o++)
                for (int k = 0; k < in; k++) {
                    double u = 0;
                    for (int j = 0; j < r; j++) u += (double) ad.b()[o * r + j] * ad.a()[j * in + k];
                    w[o * in + k] = (float) (w[o * in + k] + ad.scale() * u);
                }
            merged.put(name, Tensor.ofFloats(name, prior.shape(), w, arena));
        }
        return new Weights() {
            @Override public Tensor get(String name) { return merged.containsKey(name) ? merged.get(name) : base.get(name); }
            @Override public Tensor rows(String name, long from, long to) {
                return merged.containsKey(name) ? merged.get(name).rows(from, to) : base.rows(name, from, to);
            }
            @Override public boolean has(String name) { return base.has(name); }
            @Override public String origin() { return base.origin() + " (merged)"; }
        };
    }

    static float[][] forward(OvisImageTransformer m) {
        var v = Goldens.read("vectors/transformer_forward.safetensors");
        float[] x = Goldens.floats(v, "in.hidden_states"), c = Goldens.floats(v, "in.encoder_hidden_states");
        float[] t = Goldens.floats(v, "in.timestep");
        float[][] out = new float[2][];
        for (int b = 0; b < 2; b++)
            out[b] = m.forward(OvisImageTransformerTest.sample(x, b, IMG * 64), IMG, OvisImageTransformerTest.sample(c, b, TXT * 64), TXT,
                    t[b], OvisImageTransformerTest.ids(TXT, IMG));
        return out;
    }

    static TransformerConfig config() {
        return TransformerConfig.fromDiffusers(Goldens.tiny().resolve("transformer/config.json"));
    }

    @Test
    void adaptedModelEqualsMergedWeights() {
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("transformer")); Arena arena = Arena.ofShared()) {
            TransformerConfig cfg = config();
            StoreWeights w = new StoreWeights(store);
            List<LoraAdapter> adapters = adapters(cfg, 0.8f, 5);
            float[][] lora = forward(new OvisImageTransformer(cfg, w).withLora(adapters));
            float[][] reference = forward(new OvisImageTransformer(cfg, merged(w, adapters, arena)));
            float[][] base = forward(new OvisImageTransformer(cfg, w));
            for (int b = 0; b < 2; b++) {
                // Same sums in another order (W·x + s·B(A·x) against (W + s·B·A)·x): float32 rounding only.
                double worst = Goldens.assertParity("lora vs merged [" + b + "]", reference[b], lora[b]);
                System.out.printf("lora: adapted transformer against merged weights, sample %d max abs difference %.2e%n", b, worst);
                // and the adapters do change the output, by far more than that tolerance
                double moved = 0;
                for (int i = 0; i < base[b].length; i++) moved = Math.max(moved, Math.abs(base[b][i] - lora[b][i]));
                assertTrue(moved > 0.05, "adapters moved the output by only " + moved);
            }
        }
    }

    @Test
    void zeroScaleAdaptersChangeNoBitAndTheBaseStaysAsItWas() {
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("transformer"))) {
            TransformerConfig cfg = config();
            OvisImageTransformer base = new OvisImageTransformer(cfg, new StoreWeights(store));
            float[][] before = forward(base);
            OvisImageTransformer zero = base.withLora(adapters(cfg, 0f, 6));
            OvisImageTransformer other = base.withLora(adapters(cfg, 1.5f, 7));
            float[][] z = forward(zero), o = forward(other), after = forward(base);
            for (int b = 0; b < 2; b++) {
                assertArrayEquals(before[b], z[b], "zero-scale adapters");
                assertArrayEquals(before[b], after[b], "the base after adapted models were built over it");
                assertTrue(!java.util.Arrays.equals(before[b], o[b]));
            }
        }
    }

    @Test
    void adaptersAreCheckedAgainstTheWalk() {
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("transformer"))) {
            OvisImageTransformer base = new OvisImageTransformer(config(), new StoreWeights(store));
            OvisException e = assertThrows(OvisException.class,
                    () -> base.withLora(List.of(new LoraAdapter("transformer_blocks.7.attn.to_q", 2, new float[64], new float[64], 1f))));
            assertEquals("lora: the transformer has no linear module \"transformer_blocks.7.attn.to_q\"", e.getMessage());
            e = assertThrows(OvisException.class,
                    () -> base.withLora(List.of(new LoraAdapter("context_embedder_norm", 1, new float[64], new float[64], 1f))));
            assertEquals("lora: the transformer has no linear module \"context_embedder_norm\"", e.getMessage());
            e = assertThrows(OvisException.class,
                    () -> base.withLora(List.of(new LoraAdapter("transformer_blocks.0.attn.to_q", 2, new float[64], new float[128], 1f))));
            assertEquals("lora transformer_blocks.0.attn.to_q: adapter is [64, 32] (rank 2), the module's weight is [32, 32]", e.getMessage());
        }
    }
}
