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
import org.ovis4j.core.tensor.ParameterSpec;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.text.Qwen3Config;
import org.ovis4j.tokenizer.Qwen3Tokenizer;
import org.ovis4j.vae.VaeConfig;

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
        VaeConfig.fromDiffusers(vae);
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

    /**
     * Writes the checkpoint into {@code out} (created; must be empty or absent), copying tokenizer files
     * from {@code tokenizerDir}; the text encoder's vocabulary grows to the tokenizer's when it is smaller.
     */
    public static void write(Spec spec, DType dtype, Path tokenizerDir, Path out, long seed, java.util.function.Consumer<String> log) {
        if (!dtype.isFloat() || dtype == DType.F64) throw new OvisException("synth: dtype must be f32, f16 or bf16");
        Path tokJson = tokenizerDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokJson)) tokJson = tokenizerDir.resolve("tokenizer/tokenizer.json");
        if (!Files.isRegularFile(tokJson)) throw new OvisException(tokenizerDir + ": no tokenizer.json (or tokenizer/tokenizer.json)");
        Map<String, Object> textEncoder = coveringVocabulary(spec.textEncoder(), Qwen3Tokenizer.load(tokJson).vocabSize(), log);
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
            writeWeights(spec.transformer().parameters(), dtype, tmp.resolve("transformer/diffusion_pytorch_model.safetensors"), seed, log);
            writeJson(tmp.resolve("text_encoder/config.json"), textEncoder);
            writeWeights(textConfig(spec.name(), textEncoder).parameters(), dtype, tmp.resolve("text_encoder/model.safetensors"), seed + 1, log);
            writeJson(tmp.resolve("vae/config.json"), spec.vae());
            writeWeights(vaeConfig(spec).parameters(), DType.F32, tmp.resolve("vae/diffusion_pytorch_model.safetensors"), seed + 2, log);
            if (Files.exists(out)) Files.delete(out);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new OvisException(out + ": cannot write checkpoint (" + e.getMessage() + ")");
        }
    }

    /**
     * The text-encoder config with {@code vocab_size} raised to {@code tokens} when the tokenizer has
     * more ids than the embedding has rows: every id it produces (the chat template's
     * {@code <|im_start|>} = 151644 of the real Qwen3 tokenizer, to begin with) then has a row, so the
     * tiny config works with the real tokenizer. Refusing instead would leave no tiny checkpoint that
     * reads real prompts; the weights are random either way, and only the table's length changes.
     */
    static Map<String, Object> coveringVocabulary(Map<String, Object> textEncoder, int tokens, java.util.function.Consumer<String> log) {
        long vocab = num(textEncoder, "vocab_size");
        if (tokens <= vocab) return textEncoder;
        Map<String, Object> m = new LinkedHashMap<>(textEncoder);
        m.put("vocab_size", (long) tokens);
        if (log != null) log.accept("text encoder vocabulary " + vocab + " raised to " + tokens + ", the tokenizer's (added tokens included)");
        return m;
    }

    private static long num(Map<String, Object> m, String k) {
        return ((Number) m.get(k)).longValue();
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

    private static Map<String, Object> transformerConfig(TransformerConfig c) {
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

    /** A text encoder config map as the loader will read it. */
    static Qwen3Config textConfig(String specName, Map<String, Object> textEncoder) {
        return Qwen3Config.from(new org.ovis4j.core.json.Config("synth " + specName + " text_encoder", textEncoder));
    }

    /** The VAE's config as the loader will read it. */
    static VaeConfig vaeConfig(Spec spec) {
        return VaeConfig.fromDiffusers(new org.ovis4j.core.json.Config("synth " + spec.name() + " vae", spec.vae()));
    }

    /** Number of values a component holds, from its parameter walk. */
    public static long parameterCount(Spec spec, String component) {
        return switch (component) {
            case "transformer" -> spec.transformer().parameterCount();
            case "text_encoder" -> textConfig(spec.name(), spec.textEncoder()).parameterCount();
            case "vae" -> vaeConfig(spec).parameterCount();
            default -> throw new IllegalArgumentException(component);
        };
    }

    private static void writeWeights(List<ParameterSpec> ps, DType dtype, Path file, long seed, java.util.function.Consumer<String> log) {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt").metadata("generator", "ovis4j synth");
        for (ParameterSpec p : ps) w.add(p.name(), dtype, p.shape(), out -> fill(p, seed, dtype, out));
        long t0 = System.nanoTime();
        w.write(file);
        if (log != null) log.accept(String.format("wrote %s (%d tensors) in %.1f s", file.getFileName(), ps.size(),
                (System.nanoTime() - t0) / 1e9));
    }

    private static void fill(ParameterSpec p, long seed, DType dtype, OutputStream out) throws IOException {
        long n = p.numel();
        long base = seed * 0x9E3779B97F4A7C15L ^ p.name().hashCode() * 0xC2B2AE3D27D4EB4FL;
        int chunk = 1 << 22;
        float[] buf = new float[(int) Math.min(n, chunk)];
        // Embedding rows are looked up, not multiplied: fan-in 1, unit variance like a trained table's scale.
        double a = switch (p.kind()) {
            case LINEAR_WEIGHT, CONV_WEIGHT, EMBEDDING -> Math.sqrt(3.0 / p.fanIn());
            case NORM_WEIGHT, BIAS -> Math.sqrt(3.0) * 0.1;
        };
        float offset = p.kind() == ParameterSpec.Kind.NORM_WEIGHT ? 1f : 0f;
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
