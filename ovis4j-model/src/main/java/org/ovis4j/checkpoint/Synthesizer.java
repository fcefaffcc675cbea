package org.ovis4j.checkpoint;

import org.ovis4j.core.io.FileTrees;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.safetensors.FloatEncoder;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.dit.TransformerConfig;

/**
 * Writes a complete diffusers-layout Ovis-Image checkpoint with seeded random weights, so that
 * full-size runs and benchmarks need no download. Weights are uniform with the variance of the golden
 * checkpoints' normal draws (matrices 1/fan_in; norm weights 1 ± 0.1; biases 0.1), which keeps
 * activations O(1) through every block; uniform draws are several times cheaper to make at 9 billion
 * values. Each tensor's values depend only on the seed and its name.
 */
public final class Synthesizer {
    /** The sizes of every component. */
    public record Spec(String name, TransformerConfig transformer, Map<String, Object> textEncoder,
                       Map<String, Object> vae, int shardBytesLimit) {}

    private record Param(String name, long[] shape, String kind, long fanIn) {}

    private Synthesizer() {}

    public static Spec tiny() {
        Map<String, Object> text = qwen3(64, 128, 2, 4, 2, 16, 1024);
        Map<String, Object> vae = vae(List.of(8L, 16L, 16L, 16L), 4);
        return new Spec("tiny", new TransformerConfig(64, 64, 2, 2, 16, 2, 64, new int[] {4, 6, 6}), text, vae, Integer.MAX_VALUE);
    }

    public static Spec ovis7B() {
        Map<String, Object> text = qwen3(2048, 6144, 28, 16, 8, 128, 151936);
        Map<String, Object> vae = vae(List.of(128L, 256L, 512L, 512L), 32);
        return new Spec("7b", TransformerConfig.ovisImage7B(), text, vae, Integer.MAX_VALUE);
    }

    /**
     * A spec from a JSON file holding the three component configs as a checkpoint would:
     * {@code {"transformer": {diffusers transformer config}, "text_encoder": {Qwen3 config},
     * "vae": {diffusers AutoencoderKL config}}}; each is validated as the loader will read it.
     */
    public static Spec fromFile(Path file) {
        org.ovis4j.core.json.Config root = org.ovis4j.core.json.Config.read(file);
        org.ovis4j.core.json.Config t = need(root, "transformer"), text = need(root, "text_encoder"), vae = need(root, "vae");
        org.ovis4j.text.Qwen3Config.from(text);
        TransformerConfig transformer = TransformerConfig.fromDiffusers(t);
        String name = file.getFileName().toString().replaceFirst("\\.json$", "");
        return new Spec(name, transformer, text.map(), vae.map(), Integer.MAX_VALUE);
    }

    private static org.ovis4j.core.json.Config need(org.ovis4j.core.json.Config root, String key) {
        org.ovis4j.core.json.Config c = root.child(key);
        if (c == null) throw new OvisException(root.where() + ": missing key \"" + key + "\"");
        return c;
    }

    static Map<String, Object> qwen3(int hidden, int inter, int layers, int heads, int kvHeads, int headDim, int vocab) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of("Qwen3Model"));
        m.put("model_type", "qwen3");
        m.put("hidden_size", (long) hidden);
        m.put("intermediate_size", (long) inter);
        m.put("num_hidden_layers", (long) layers);
        m.put("num_attention_heads", (long) heads);
        m.put("num_key_value_heads", (long) kvHeads);
        m.put("head_dim", (long) headDim);
        m.put("vocab_size", (long) vocab);
        m.put("hidden_act", "silu");
        m.put("rms_norm_eps", 1e-6);
        m.put("rope_theta", 1000000.0);
        m.put("max_position_embeddings", 40960L);
        m.put("attention_bias", false);
        m.put("tie_word_embeddings", true);
        return m;
    }

    static Map<String, Object> vae(List<Long> channels, int groups) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "AutoencoderKL");
        m.put("act_fn", "silu");
        m.put("block_out_channels", channels);
        List<Object> down = new ArrayList<>(), up = new ArrayList<>();
        for (int i = 0; i < channels.size(); i++) {
            down.add("DownEncoderBlock2D");
            up.add("UpDecoderBlock2D");
        }
        m.put("down_block_types", down);
        m.put("up_block_types", up);
        m.put("in_channels", 3L);
        m.put("out_channels", 3L);
        m.put("latent_channels", 16L);
        m.put("layers_per_block", 2L);
        m.put("norm_num_groups", (long) groups);
        m.put("mid_block_add_attention", true);
        m.put("scaling_factor", 0.3611);
        m.put("shift_factor", 0.1159);
        m.put("use_quant_conv", false);
        m.put("use_post_quant_conv", false);
        return m;
    }

    /** Writes the checkpoint into {@code out} (created; must be empty or absent), copying tokenizer files from {@code tokenizerDir}. */
    public static void write(Spec spec, DType dtype, Path tokenizerDir, Path out, long seed, java.util.function.Consumer<String> log) {
        if (!dtype.isFloat() || dtype == DType.F64) throw new OvisException("synth: dtype must be f32, f16 or bf16");
        Path tokJson = tokenizerDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokJson)) tokJson = tokenizerDir.resolve("tokenizer/tokenizer.json");
        if (!Files.isRegularFile(tokJson)) throw new OvisException(tokenizerDir + ": no tokenizer.json (or tokenizer/tokenizer.json)");
        try {
            if (Files.exists(out) && Files.list(out).findAny().isPresent())
                throw new OvisException(out + ": output folder is not empty");
            Path tmp = out.toAbsolutePath().resolveSibling(out.getFileName() + ".partial");
            FileTrees.delete(tmp);
            Files.createDirectories(tmp);
            writeJson(tmp.resolve("model_index.json"), modelIndex());
            writeJson(tmp.resolve("scheduler/scheduler_config.json"), schedulerConfig());
            Files.createDirectories(tmp.resolve("tokenizer"));
            Files.copy(tokJson, tmp.resolve("tokenizer/tokenizer.json"));
            Path tokCfg = tokJson.resolveSibling("tokenizer_config.json");
            if (Files.isRegularFile(tokCfg)) Files.copy(tokCfg, tmp.resolve("tokenizer/tokenizer_config.json"));

            writeJson(tmp.resolve("transformer/config.json"), transformerConfig(spec.transformer()));
            writeWeights(transformerParams(spec.transformer()), dtype, tmp.resolve("transformer/diffusion_pytorch_model.safetensors"), seed, log);
            writeJson(tmp.resolve("text_encoder/config.json"), spec.textEncoder());
            writeWeights(textParams(spec.textEncoder()), dtype, tmp.resolve("text_encoder/model.safetensors"), seed + 1, log);
            writeJson(tmp.resolve("vae/config.json"), spec.vae());
            writeWeights(vaeParams(spec.vae()), DType.F32, tmp.resolve("vae/diffusion_pytorch_model.safetensors"), seed + 2, log);
            if (Files.exists(out)) Files.delete(out);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new OvisException(out + ": cannot write checkpoint (" + e.getMessage() + ")");
        }
    }


    private static void writeJson(Path file, Object value) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, Json.write(value, 2) + "\n");
    }

    private static Map<String, Object> modelIndex() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "OvisImagePipeline");
        m.put("scheduler", List.of("diffusers", "FlowMatchEulerDiscreteScheduler"));
        m.put("text_encoder", List.of("transformers", "Qwen3Model"));
        m.put("tokenizer", List.of("transformers", "Qwen2TokenizerFast"));
        m.put("transformer", List.of("diffusers", "OvisImageTransformer2DModel"));
        m.put("vae", List.of("diffusers", "AutoencoderKL"));
        return m;
    }

    private static Map<String, Object> schedulerConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "FlowMatchEulerDiscreteScheduler");
        m.put("num_train_timesteps", 1000L);
        m.put("shift", 3.0);
        m.put("use_dynamic_shifting", true);
        m.put("base_shift", 0.5);
        m.put("max_shift", 1.15);
        m.put("base_image_seq_len", 256L);
        m.put("max_image_seq_len", 4096L);
        m.put("time_shift_type", "exponential");
        return m;
    }

    /** The diffusers transformer/config.json of a configuration. */
    public static Map<String, Object> transformerConfig(TransformerConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", "OvisImageTransformer2DModel");
        m.put("patch_size", 1L);
        m.put("in_channels", (long) c.inChannels());
        m.put("out_channels", (long) c.outChannels());
        m.put("num_layers", (long) c.numLayers());
        m.put("num_single_layers", (long) c.numSingleLayers());
        m.put("attention_head_dim", (long) c.attentionHeadDim());
        m.put("num_attention_heads", (long) c.numAttentionHeads());
        m.put("joint_attention_dim", (long) c.jointAttentionDim());
        List<Object> axes = new ArrayList<>();
        for (int a : c.axesDimsRope()) axes.add((long) a);
        m.put("axes_dims_rope", axes);
        return m;
    }

    private static void linear(List<Param> ps, String name, long out, long in, boolean bias) {
        ps.add(new Param(name + ".weight", new long[] {out, in}, "matrix", in));
        if (bias) ps.add(new Param(name + ".bias", new long[] {out}, "bias", in));
    }

    private static void norm(List<Param> ps, String name, long dim, boolean bias) {
        ps.add(new Param(name + ".weight", new long[] {dim}, "norm", 1));
        if (bias) ps.add(new Param(name + ".bias", new long[] {dim}, "bias", 1));
    }

    static List<Param> transformerParams(TransformerConfig c) {
        long d = c.innerDim(), f = c.mlpHidden(), dh = c.attentionHeadDim();
        List<Param> ps = new ArrayList<>();
        linear(ps, "x_embedder", d, c.inChannels(), true);
        linear(ps, "timestep_embedder.linear_1", d, TransformerConfig.TIME_EMBED_DIM, true);
        linear(ps, "timestep_embedder.linear_2", d, d, true);
        norm(ps, "context_embedder_norm", c.jointAttentionDim(), false);
        linear(ps, "context_embedder", d, c.jointAttentionDim(), true);
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "transformer_blocks." + i + ".";
            linear(ps, p + "norm1.linear", 6 * d, d, true);
            linear(ps, p + "norm1_context.linear", 6 * d, d, true);
            for (String n : new String[] {"to_q", "to_k", "to_v", "add_q_proj", "add_k_proj", "add_v_proj"})
                linear(ps, p + "attn." + n, d, d, true);
            for (String n : new String[] {"norm_q", "norm_k", "norm_added_q", "norm_added_k"}) norm(ps, p + "attn." + n, dh, false);
            linear(ps, p + "attn.to_out.0", d, d, true);
            linear(ps, p + "attn.to_add_out", d, d, true);
            for (String ff : new String[] {"ff", "ff_context"}) {
                linear(ps, p + ff + ".net.0.proj", 2 * f, d, true);
                linear(ps, p + ff + ".net.2", d, f, true);
            }
        }
        for (int i = 0; i < c.numSingleLayers(); i++) {
            String p = "single_transformer_blocks." + i + ".";
            linear(ps, p + "norm.linear", 3 * d, d, true);
            for (String n : new String[] {"to_q", "to_k", "to_v"}) linear(ps, p + "attn." + n, d, d, true);
            norm(ps, p + "attn.norm_q", dh, false);
            norm(ps, p + "attn.norm_k", dh, false);
            linear(ps, p + "proj_mlp", 2 * f, d, true);
            linear(ps, p + "proj_out", d, d + f, true);
        }
        linear(ps, "norm_out.linear", 2 * d, d, true);
        linear(ps, "proj_out", c.outChannels(), d, true);
        return ps;
    }

    private static long num(Map<String, Object> m, String k) {
        return ((Number) m.get(k)).longValue();
    }

    static List<Param> textParams(Map<String, Object> t) {
        long h = num(t, "hidden_size"), inter = num(t, "intermediate_size"), hd = num(t, "head_dim");
        long q = num(t, "num_attention_heads") * hd, kv = num(t, "num_key_value_heads") * hd;
        List<Param> ps = new ArrayList<>();
        // Embedding rows are looked up, not multiplied: unit variance like a trained table's scale
        ps.add(new Param("embed_tokens.weight", new long[] {num(t, "vocab_size"), h}, "matrix", 1));
        for (int i = 0; i < num(t, "num_hidden_layers"); i++) {
            String p = "layers." + i + ".";
            norm(ps, p + "input_layernorm", h, false);
            linear(ps, p + "self_attn.q_proj", q, h, false);
            linear(ps, p + "self_attn.k_proj", kv, h, false);
            linear(ps, p + "self_attn.v_proj", kv, h, false);
            linear(ps, p + "self_attn.o_proj", h, q, false);
            norm(ps, p + "self_attn.q_norm", hd, false);
            norm(ps, p + "self_attn.k_norm", hd, false);
            norm(ps, p + "post_attention_layernorm", h, false);
            linear(ps, p + "mlp.gate_proj", inter, h, false);
            linear(ps, p + "mlp.up_proj", inter, h, false);
            linear(ps, p + "mlp.down_proj", h, inter, false);
        }
        norm(ps, "norm", h, false);
        return ps;
    }

    private static void conv(List<Param> ps, String name, long out, long in, long k) {
        ps.add(new Param(name + ".weight", new long[] {out, in, k, k}, "matrix", in * k * k));
        ps.add(new Param(name + ".bias", new long[] {out}, "bias", in * k * k));
    }

    private static void resnet(List<Param> ps, String p, long in, long out) {
        norm(ps, p + "norm1", in, true);
        conv(ps, p + "conv1", out, in, 3);
        norm(ps, p + "norm2", out, true);
        conv(ps, p + "conv2", out, out, 3);
        if (in != out) conv(ps, p + "conv_shortcut", out, in, 1);
    }

    private static void mid(List<Param> ps, String p, long c) {
        resnet(ps, p + "resnets.0.", c, c);
        norm(ps, p + "attentions.0.group_norm", c, true);
        for (String n : new String[] {"to_q", "to_k", "to_v", "to_out.0"}) linear(ps, p + "attentions.0." + n, c, c, true);
        resnet(ps, p + "resnets.1.", c, c);
    }

    @SuppressWarnings("unchecked")
    static List<Param> vaeParams(Map<String, Object> v) {
        List<Long> ch = (List<Long>) v.get("block_out_channels");
        long layers = num(v, "layers_per_block"), lat = num(v, "latent_channels");
        int levels = ch.size();
        List<Param> ps = new ArrayList<>();
        conv(ps, "encoder.conv_in", ch.get(0), num(v, "in_channels"), 3);
        long prev = ch.get(0);
        for (int b = 0; b < levels; b++) {
            for (int j = 0; j < layers; j++) {
                resnet(ps, "encoder.down_blocks." + b + ".resnets." + j + ".", j == 0 ? prev : ch.get(b), ch.get(b));
            }
            prev = ch.get(b);
            if (b < levels - 1) conv(ps, "encoder.down_blocks." + b + ".downsamplers.0.conv", prev, prev, 3);
        }
        long top = ch.get(levels - 1);
        mid(ps, "encoder.mid_block.", top);
        norm(ps, "encoder.conv_norm_out", top, true);
        conv(ps, "encoder.conv_out", 2 * lat, top, 3);
        conv(ps, "decoder.conv_in", top, lat, 3);
        mid(ps, "decoder.mid_block.", top);
        prev = top;
        for (int k = 0; k < levels; k++) {
            long c = ch.get(levels - 1 - k);
            for (int j = 0; j <= layers; j++) resnet(ps, "decoder.up_blocks." + k + ".resnets." + j + ".", j == 0 ? prev : c, c);
            prev = c;
            if (k < levels - 1) conv(ps, "decoder.up_blocks." + k + ".upsamplers.0.conv", c, c, 3);
        }
        norm(ps, "decoder.conv_norm_out", prev, true);
        conv(ps, "decoder.conv_out", num(v, "out_channels"), prev, 3);
        return ps;
    }

    /** Number of values a component holds, from its parameter list. */
    public static long parameterCount(Spec spec, String component) {
        List<Param> ps = switch (component) {
            case "transformer" -> transformerParams(spec.transformer());
            case "text_encoder" -> textParams(spec.textEncoder());
            case "vae" -> vaeParams(spec.vae());
            default -> throw new IllegalArgumentException(component);
        };
        long n = 0;
        for (Param p : ps) n += org.ovis4j.core.tensor.Tensor.numel(p.shape);
        return n;
    }

    private static void writeWeights(List<Param> ps, DType dtype, Path file, long seed, java.util.function.Consumer<String> log) {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt").metadata("generator", "ovis4j synth");
        for (Param p : ps) w.add(p.name, dtype, p.shape, out -> fill(p, seed, dtype, out));
        long t0 = System.nanoTime();
        w.write(file);
        if (log != null) log.accept(String.format("wrote %s (%d tensors) in %.1f s", file.getFileName(), ps.size(),
                (System.nanoTime() - t0) / 1e9));
    }

    private static void fill(Param p, long seed, DType dtype, OutputStream out) throws IOException {
        long n = org.ovis4j.core.tensor.Tensor.numel(p.shape);
        long base = seed * 0x9E3779B97F4A7C15L ^ p.name.hashCode() * 0xC2B2AE3D27D4EB4FL;
        int chunk = 1 << 22;
        float[] buf = new float[(int) Math.min(n, chunk)];
        double a = switch (p.kind) {
            case "matrix" -> Math.sqrt(3.0 / p.fanIn);
            default -> Math.sqrt(3.0) * 0.1;
        };
        float offset = p.kind.equals("norm") ? 1f : 0f;
        for (long at = 0; at < n; at += chunk) {
            int c = (int) Math.min(chunk, n - at);
            long start = at;
            int parts = Math.max(1, Parallel.threads());
            int per = (c + parts - 1) / parts;
            Parallel.forEach(parts, t -> {
                int from = t * per, to = Math.min(c, from + per);
                long s = base + (start + from) * 0x9E3779B97F4A7C15L;
                for (int i = from; i < to; i++) {
                    long z = (s += 0x9E3779B97F4A7C15L);
                    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
                    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
                    z ^= z >>> 31;
                    double u = (z >>> 11) * 0x1.0p-53 * 2 - 1;
                    buf[i] = offset + (float) (u * a);
                }
            });
            FloatEncoder.write(buf, 0, c, dtype, out);
        }
    }
}
