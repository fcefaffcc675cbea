package org.ovis4j.text;

import java.nio.file.Path;
import java.util.List;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;
import org.ovis4j.core.tensor.ParameterSpec;

/**
 * Qwen3 hyper-parameters, named as in transformers' {@code config.json}. Only what the forward pass
 * needs is kept: SiLU MLP, no attention biases, full (non-sliding) attention and default RoPE are
 * checked, not configured.
 *
 * <p>Three spellings of the file are read: diffusers' {@code text_encoder/config.json} written by
 * transformers 5 ({@code rope_parameters: {rope_theta, rope_type}}), the same written by transformers
 * 4 (top-level {@code rope_theta}, optional {@code rope_scaling}), and the config of an Ovis2.5 folder,
 * where the LLM's config sits under {@code llm_config} (multimodal configs elsewhere use
 * {@code text_config}, also accepted) and the top-level keys describe the wrapper.
 */
public record Qwen3Config(int hiddenSize, int intermediateSize, int numHiddenLayers, int numAttentionHeads,
                          int numKeyValueHeads, int headDim, int vocabSize, double rmsNormEps, double ropeTheta) {

    public Qwen3Config {
        if (hiddenSize <= 0 || intermediateSize <= 0 || numHiddenLayers <= 0 || vocabSize <= 0)
            throw new OvisException("qwen3 config: sizes must be positive");
        if (numAttentionHeads <= 0 || numKeyValueHeads <= 0 || numAttentionHeads % numKeyValueHeads != 0)
            throw new OvisException("qwen3 config: num_attention_heads " + numAttentionHeads
                    + " is not a positive multiple of num_key_value_heads " + numKeyValueHeads);
        if (headDim <= 0 || headDim % 2 != 0)
            throw new OvisException("qwen3 config: head_dim " + headDim + " must be positive and even");
        if (!(rmsNormEps > 0) || !(ropeTheta > 0))
            throw new OvisException("qwen3 config: rms_norm_eps and rope_theta must be positive");
    }

    /** The LLM of Ovis2.5-2B, i.e. the released Ovis-Image text encoder (spec 1.2). */
    public static Qwen3Config ovis25_2B() {
        return new Qwen3Config(2048, 6144, 28, 16, 8, 128, 151936, 1e-6, 1e6);
    }

    public int qDim() { return numAttentionHeads * headDim; }
    public int kvDim() { return numKeyValueHeads * headDim; }

    /**
     * Every parameter of a Qwen3Model with these sizes (no lm_head: the word embeddings are tied or
     * unused), in transformers' names without a prefix and declaration order.
     */
    public List<ParameterSpec> parameters() {
        long h = hiddenSize, q = qDim(), kv = kvDim(), f = intermediateSize;
        ParameterSpec.Builder b = ParameterSpec.builder().embedding("embed_tokens", vocabSize, h);
        for (int i = 0; i < numHiddenLayers; i++) {
            String p = "layers." + i + ".";
            b.norm(p + "input_layernorm", h, false)
                    .linear(p + "self_attn.q_proj", q, h, false)
                    .linear(p + "self_attn.k_proj", kv, h, false)
                    .linear(p + "self_attn.v_proj", kv, h, false)
                    .linear(p + "self_attn.o_proj", h, q, false)
                    .norm(p + "self_attn.q_norm", headDim, false)
                    .norm(p + "self_attn.k_norm", headDim, false)
                    .norm(p + "post_attention_layernorm", h, false)
                    .linear(p + "mlp.gate_proj", f, h, false)
                    .linear(p + "mlp.up_proj", f, h, false)
                    .linear(p + "mlp.down_proj", h, f, false);
        }
        return b.norm("norm", h, false).build();
    }

    /** Weight count of a Qwen3Model with these sizes (no lm_head). */
    public long parameterCount() {
        return ParameterSpec.count(parameters());
    }

    /** Reads {@code <dir>/config.json}. */
    public static Qwen3Config readFolder(Path dir) {
        return read(dir.resolve("config.json"));
    }

    /**
     * Reads a Qwen3 config file, or the LLM part of an Ovis2.5 config ({@code llm_config}, else
     * {@code text_config}) when the file has one.
     */
    public static Qwen3Config read(Path file) {
        Config root = Config.read(file);
        Config c = root.child("llm_config");
        if (c == null) c = root.child("text_config");
        return from(c != null ? c : root);
    }

    /** The values of one config object; missing keys are one-line errors naming the file and key. */
    public static Qwen3Config from(Config c) {
        String where = c.where();
        String act = c.getString("hidden_act", "silu");
        if (!act.equals("silu")) throw new OvisException(where + ": hidden_act \"" + act + "\" is not supported (expected silu)");
        if (c.getBoolean("attention_bias", false))
            throw new OvisException(where + ": attention_bias true is not supported (Qwen3 has no attention biases)");
        if (c.getBoolean("use_sliding_window", false))
            throw new OvisException(where + ": use_sliding_window true is not supported");
        if (c.map().get("layer_types") instanceof List<?> types)
            for (Object t : types)
                if (!"full_attention".equals(t))
                    throw new OvisException(where + ": layer type \"" + t + "\" is not supported (expected full_attention)");

        int hidden = c.getInt("hidden_size");
        int heads = c.getInt("num_attention_heads");
        if (!c.has("head_dim") && hidden % heads != 0)
            throw new OvisException(where + ": missing key \"head_dim\" and hidden_size is not a multiple of num_attention_heads");
        int headDim = c.getInt("head_dim", hidden / heads);
        return new Qwen3Config(hidden, c.getInt("intermediate_size"), c.getInt("num_hidden_layers"), heads,
                c.getInt("num_key_value_heads"), headDim, c.getInt("vocab_size"), c.getDouble("rms_norm_eps"),
                ropeTheta(c));
    }

    /**
     * rope_theta from transformers 5's {@code rope_parameters} or transformers 4's top level; any RoPE
     * type other than "default" (scaling, YaRN, ...) is rejected.
     */
    private static double ropeTheta(Config c) {
        Config params = c.child("rope_parameters");
        Config scaling = c.child("rope_scaling");
        for (Config p : new Config[] {params, scaling}) {
            if (p == null) continue;
            String type = p.getString("rope_type", p.getString("type", "default"));
            if (!type.equals("default"))
                throw new OvisException(p.where() + ": rope type \"" + type + "\" is not supported (only default RoPE)");
        }
        if (params != null && params.has("rope_theta")) return params.getDouble("rope_theta");
        if (c.has("rope_theta")) return c.getDouble("rope_theta");
        throw new OvisException(c.where() + ": missing key \"rope_theta\" (top level or in \"rope_parameters\")");
    }
}
