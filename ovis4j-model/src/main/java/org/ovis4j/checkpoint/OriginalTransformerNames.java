package org.ovis4j.checkpoint;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ovis4j.checkpoint.NameMap.Part;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.ParameterSpec;
import org.ovis4j.dit.TransformerConfig;

/**
 * The official {@code ovis_image.safetensors} names seen as diffusers names (spec 1.3b): fused
 * qkv/linear1 tensors become row blocks, the separate SwiGLU up/gate tensors stack as [up; gate], and
 * the final modulation's [shift; scale] halves are swapped into diffusers' [scale; shift]. The map
 * holds an entry for each name of the transformer's parameter walk.
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

    /** An entry for every parameter of the config's walk. */
    public static NameMap map(TransformerConfig cfg) {
        NameMap m = new NameMap();
        for (ParameterSpec p : cfg.parameters()) m.parts(p.name(), parts(p.name(), cfg).toArray(Part[]::new));
        return m;
    }

    private static final Pattern BLOCK = Pattern.compile("^(transformer_blocks|single_transformer_blocks)\\.(\\d+)\\.(.+)$");
    /** A double block's per-stream modules: diffusers name within the block → original name within its stream. */
    private static final Map<String, String> IMG = Map.of("norm1.linear", "img_mod.lin", "attn.to_out.0", "img_attn.proj",
            "attn.norm_q", "img_attn.norm.query_norm", "attn.norm_k", "img_attn.norm.key_norm", "ff.net.2", "img_mlp.down_proj");
    private static final Map<String, String> TXT = Map.of("norm1_context.linear", "txt_mod.lin", "attn.to_add_out", "txt_attn.proj",
            "attn.norm_added_q", "txt_attn.norm.query_norm", "attn.norm_added_k", "txt_attn.norm.key_norm", "ff_context.net.2",
            "txt_mlp.down_proj");
    private static final Map<String, String> TOP = Map.of("x_embedder", "img_in", "timestep_embedder.linear_1", "time_in.in_layer",
            "timestep_embedder.linear_2", "time_in.out_layer", "context_embedder_norm", "semantic_txt_norm",
            "context_embedder", "semantic_txt_in", "proj_out", "final_layer.linear");
    private static final List<String> IMG_QKV = List.of("attn.to_q", "attn.to_k", "attn.to_v");
    private static final List<String> TXT_QKV = List.of("attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj");

    /** Where the original checkpoint keeps one diffusers parameter: whole tensors or row blocks, stacked in order. */
    static List<Part> parts(String name, TransformerConfig cfg) {
        long d = cfg.innerDim(), f = cfg.mlpHidden();
        int dot = name.lastIndexOf('.');
        String module = name.substring(0, dot), suffix = name.substring(dot); // ".weight" or ".bias"
        if (module.equals("norm_out.linear")) // diffusers [scale; shift], original [shift; scale]
            return List.of(new Part("final_layer.adaLN_modulation.1" + suffix, d, d), new Part("final_layer.adaLN_modulation.1" + suffix, 0, d));
        Matcher b = BLOCK.matcher(module);
        if (!b.matches()) return whole(TOP, module, "", suffix);
        String local = b.group(3);
        if (b.group(1).equals("single_transformer_blocks")) {
            String o = "single_blocks." + b.group(2) + ".";
            int qkv = IMG_QKV.indexOf(local);
            if (qkv >= 0) return List.of(new Part(o + "linear1" + suffix, qkv * d, d));
            return switch (local) {
                case "proj_mlp" -> List.of(new Part(o + "linear1" + suffix, 3 * d, 2 * f));
                case "norm.linear" -> List.of(Part.whole(o + "modulation.lin" + suffix));
                case "attn.norm_q" -> List.of(Part.whole(o + "norm.query_norm" + suffix));
                case "attn.norm_k" -> List.of(Part.whole(o + "norm.key_norm" + suffix));
                case "proj_out" -> List.of(Part.whole(o + "linear2" + suffix));
                default -> throw new IllegalStateException("no original name for " + name);
            };
        }
        String o = "double_blocks." + b.group(2) + ".";
        int q = IMG_QKV.indexOf(local), t = TXT_QKV.indexOf(local);
        if (q >= 0) return List.of(new Part(o + "img_attn.qkv" + suffix, q * d, d));
        if (t >= 0) return List.of(new Part(o + "txt_attn.qkv" + suffix, t * d, d));
        if (local.equals("ff.net.0.proj") || local.equals("ff_context.net.0.proj")) { // diffusers [up; gate], original separate
            String mlp = o + (local.startsWith("ff.") ? "img_mlp." : "txt_mlp.");
            return List.of(Part.whole(mlp + "up_proj" + suffix), Part.whole(mlp + "gate_proj" + suffix));
        }
        return whole(IMG.containsKey(local) ? IMG : TXT, local, o, suffix);
    }

    private static List<Part> whole(Map<String, String> names, String module, String prefix, String suffix) {
        String original = names.get(module);
        if (original == null) throw new IllegalStateException("no original name for " + prefix + module + suffix);
        return List.of(Part.whole(prefix + original + suffix));
    }
}
