package org.ovis4j.checkpoint;

import org.ovis4j.checkpoint.NameMap.Part;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.dit.TransformerConfig;

/**
 * The official {@code ovis_image.safetensors} names seen as diffusers names (spec 1.3b): fused
 * qkv/linear1 tensors become row blocks, the separate SwiGLU up/gate tensors stack as [up; gate], and
 * the final modulation's [shift; scale] halves are swapped into diffusers' [scale; shift].
 */
public final class OriginalTransformerNames {
    private OriginalTransformerNames() {}

    /** True when the store uses the official names. */
    public static boolean matches(TensorStore store) {
        return store.has("img_in.weight") && store.has("final_layer.linear.weight");
    }

    /**
     * The transformer weights of {@code store} under diffusers names, whichever published layout it holds;
     * float matrices converted to {@code computeType} on first use (null: as stored).
     */
    public static Weights weights(TensorStore store, TransformerConfig cfg, org.ovis4j.core.tensor.DType computeType) {
        return new StoreWeights(store, "", matches(store) ? map(cfg) : null, computeType);
    }

    public static NameMap map(TransformerConfig cfg) {
        long d = cfg.innerDim(), f = cfg.mlpHidden();
        NameMap m = new NameMap();
        both(m, "x_embedder", "img_in");
        both(m, "timestep_embedder.linear_1", "time_in.in_layer");
        both(m, "timestep_embedder.linear_2", "time_in.out_layer");
        m.rename("context_embedder_norm.weight", "semantic_txt_norm.weight");
        both(m, "context_embedder", "semantic_txt_in");
        for (int i = 0; i < cfg.numLayers(); i++) {
            String p = "transformer_blocks." + i + ".", o = "double_blocks." + i + ".";
            both(m, p + "norm1.linear", o + "img_mod.lin");
            both(m, p + "norm1_context.linear", o + "txt_mod.lin");
            String[][] streams = {{"img", "to_q", "to_k", "to_v", "norm_q", "norm_k", "attn.to_out.0", "ff"},
                                  {"txt", "add_q_proj", "add_k_proj", "add_v_proj", "norm_added_q", "norm_added_k",
                                   "attn.to_add_out", "ff_context"}};
            for (String[] s : streams) {
                String a = o + s[0] + "_attn.";
                for (int j = 0; j < 3; j++) rows(m, p + "attn." + s[1 + j], a + "qkv", j * d, d);
                m.rename(p + "attn." + s[4] + ".weight", a + "norm.query_norm.weight");
                m.rename(p + "attn." + s[5] + ".weight", a + "norm.key_norm.weight");
                both(m, p + s[6], a + "proj");
                String mlp = o + s[0] + "_mlp.";
                for (String suffix : new String[] {".weight", ".bias"})
                    m.parts(p + s[7] + ".net.0.proj" + suffix, Part.whole(mlp + "up_proj" + suffix),
                            Part.whole(mlp + "gate_proj" + suffix));
                both(m, p + s[7] + ".net.2", mlp + "down_proj");
            }
        }
        for (int i = 0; i < cfg.numSingleLayers(); i++) {
            String p = "single_transformer_blocks." + i + ".", o = "single_blocks." + i + ".";
            both(m, p + "norm.linear", o + "modulation.lin");
            rows(m, p + "attn.to_q", o + "linear1", 0, d);
            rows(m, p + "attn.to_k", o + "linear1", d, d);
            rows(m, p + "attn.to_v", o + "linear1", 2 * d, d);
            rows(m, p + "proj_mlp", o + "linear1", 3 * d, 2 * f);
            m.rename(p + "attn.norm_q.weight", o + "norm.query_norm.weight");
            m.rename(p + "attn.norm_k.weight", o + "norm.key_norm.weight");
            both(m, p + "proj_out", o + "linear2");
        }
        for (String suffix : new String[] {".weight", ".bias"})
            m.parts("norm_out.linear" + suffix, new Part("final_layer.adaLN_modulation.1" + suffix, d, d),
                    new Part("final_layer.adaLN_modulation.1" + suffix, 0, d));
        both(m, "proj_out", "final_layer.linear");
        return m;
    }

    private static void both(NameMap m, String diffusers, String original) {
        m.rename(diffusers + ".weight", original + ".weight");
        m.rename(diffusers + ".bias", original + ".bias");
    }

    private static void rows(NameMap m, String diffusers, String original, long from, long count) {
        m.parts(diffusers + ".weight", new Part(original + ".weight", from, count));
        m.parts(diffusers + ".bias", new Part(original + ".bias", from, count));
    }
}
