package org.ovis4j.lora;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.TransformerConfig;

/**
 * LoRA adapter files of the transformer (spec 9.2, goldens README 9.4): what a file holds, with its
 * alpha, as {@link Adapter}; {@link Lora#read} turns a file into the {@link LoraAdapter}s a model
 * applies.
 *
 * <p><b>The diffusers format</b>, what {@code pipe.load_lora_weights} reads and
 * {@code save_lora_weights} writes: tensors {@code transformer.<module>.lora_A.weight} [r, in] and
 * {@code transformer.<module>.lora_B.weight} [out, r] with diffusers module paths, and
 * {@code __metadata__ = {"format": "pt", "lora_adapter_metadata": JSON}} where the JSON is peft's
 * LoraConfig with every key prefixed {@code transformer.} ({@code r}, {@code lora_alpha},
 * {@code target_modules}, {@code rank_pattern}, {@code alpha_pattern}, ...). A module's rank is its A's
 * row count; its alpha is, in this order, a kohya-style {@code <module>.alpha} tensor, its
 * {@code alpha_pattern} entry, {@code lora_alpha}, else the rank (diffusers' assumption without
 * metadata: scale 1). {@link #write} produces this format, {@link #read(Path)} reads it.
 *
 * <p><b>Other trainers' files</b> ({@link #read(Path, TransformerConfig)}): kohya sd-scripts
 * ({@code lora_unet_<module with _ for .>.lora_down.weight / .lora_up.weight / .alpha}) and
 * stable-diffusion.cpp / ComfyUI ({@code diffusion_model.<module>.lora_A.weight}), with the module named
 * either in diffusers' layout or in the official {@code ovis_image.safetensors} layout (BFL names,
 * {@code double_blocks.0.img_attn.qkv}, ...). Official modules are mapped onto diffusers modules through
 * the checkpoint name map ({@link org.ovis4j.checkpoint.OriginalTransformerNames}), exactly: a diffusers
 * weight that is a row block of an official one (q/k/v of a fused qkv, the parts of {@code linear1})
 * gets the same A and those rows of B; one stacked from blocks of several official tensors (SwiGLU's
 * up and gate) gets A's stacked and a block-diagonal B, with each source's scale folded into its block
 * when the scales differ. A file adapting the text encoder, or using DoRA, LoKr, LoHa or full weight
 * differences, is refused with one line naming the key.
 */
public final class LoraFile {
    private LoraFile() {}

    /**
     * One adapted linear module: y = W x + b + (alpha / rank)·B (A x), with A [rank, in] and B [out, rank]
     * row-major. {@code module} is the diffusers path inside the transformer, without {@code transformer.}.
     */
    public record Adapter(String module, float[] a, long[] aShape, float[] b, long[] bShape, float alpha, int rank) {
        public Adapter {
            if (aShape.length != 2 || bShape.length != 2 || aShape[0] != rank || bShape[1] != rank || rank <= 0)
                throw new OvisException("LoRA " + module + ": lora_A " + Arrays.toString(aShape) + " and lora_B "
                        + Arrays.toString(bShape) + " are not [r, in] and [out, r] with one rank r");
            if (a.length != aShape[0] * aShape[1] || b.length != bShape[0] * bShape[1])
                throw new OvisException("LoRA " + module + ": values do not match the shapes " + Arrays.toString(aShape) + ", "
                        + Arrays.toString(bShape));
            if (!(alpha > 0) || !Float.isFinite(alpha)) throw new OvisException("LoRA " + module + ": alpha must be positive, got " + alpha);
            aShape = aShape.clone();
            bShape = bShape.clone();
        }

        /** A [rank, in], B [out, rank] from flat arrays. */
        public static Adapter of(String module, float[] a, float[] b, int in, int out, int rank, float alpha) {
            return new Adapter(module, a, new long[] {rank, in}, b, new long[] {out, rank}, alpha, rank);
        }

        public int in() { return (int) aShape[1]; }
        public int out() { return (int) bShape[0]; }
        /** alpha / rank, as peft computes {@code scaling} (no rsLoRA). */
        public float scale() { return (float) ((double) alpha / rank); }

        /**
         * The update as a model applies it, scaled by {@code weight}·alpha/rank: peft's
         * {@code set_scale(adapter, weight)} (diffusers' {@code set_adapters} weights) and a pipeline
         * call's {@code joint_attention_kwargs={"scale": weight}} both multiply alpha/rank by the
         * weight. A and B are shared, not copied.
         */
        public LoraAdapter toAdapter(float weight) {
            return new LoraAdapter(module, rank, a, b, (float) ((double) weight * alpha / rank));
        }
    }

    static final String PREFIX = "transformer.";
    static final String METADATA_KEY = "lora_adapter_metadata";

    // ---------------------------------------------------------------- writing

    /** Writes {@code adapters} in the diffusers format with float32 values, atomically. */
    public static void write(Path file, List<Adapter> adapters) {
        write(file, adapters, DType.F32);
    }

    /** Writes {@code adapters} in the diffusers format with values stored as {@code dtype} (F32, BF16 or F16). */
    public static void write(Path file, List<Adapter> adapters, DType dtype) {
        if (adapters.isEmpty()) throw new OvisException(file + ": no LoRA adapters to write");
        List<Adapter> sorted = new ArrayList<>(adapters);
        sorted.sort(Comparator.comparing(Adapter::module));
        for (int k = 1; k < sorted.size(); k++)
            if (sorted.get(k).module().equals(sorted.get(k - 1).module()))
                throw new OvisException(file + ": two adapters for module " + sorted.get(k).module());
        SafetensorsWriter w = new SafetensorsWriter();
        for (Adapter ad : sorted) { // names sort as safetensors' Python writer orders them: lora_A before lora_B
            w.addFloats(PREFIX + ad.module() + ".lora_A.weight", dtype, ad.aShape(), ad.a());
            w.addFloats(PREFIX + ad.module() + ".lora_B.weight", dtype, ad.bShape(), ad.b());
        }
        w.metadata("format", "pt");
        w.metadata(METADATA_KEY, Json.write(adapterMetadata(sorted), 2));
        w.write(file);
    }

    /**
     * peft's LoraConfig as diffusers stores it (keys sorted, each prefixed {@code transformer.}): the most
     * common rank and alpha as r and lora_alpha, the modules that differ in rank_pattern / alpha_pattern.
     */
    static Map<String, Object> adapterMetadata(List<Adapter> adapters) {
        int r = mostCommon(adapters.stream().map(Adapter::rank).toList());
        float alpha = mostCommon(adapters.stream().map(Adapter::alpha).toList());
        Map<String, Object> rankPattern = new TreeMap<>(), alphaPattern = new TreeMap<>();
        List<Object> targets = new ArrayList<>();
        for (Adapter ad : adapters) {
            targets.add(ad.module());
            if (ad.rank() != r) rankPattern.put(ad.module(), (long) ad.rank());
            if (ad.alpha() != alpha) alphaPattern.put(ad.module(), (double) ad.alpha());
        }
        Map<String, Object> m = new TreeMap<>();
        m.put(PREFIX + "alpha_pattern", alphaPattern);
        m.put(PREFIX + "bias", "none");
        m.put(PREFIX + "lora_alpha", (double) alpha);
        m.put(PREFIX + "lora_bias", false);
        m.put(PREFIX + "lora_dropout", 0.0);
        m.put(PREFIX + "r", (long) r);
        m.put(PREFIX + "rank_pattern", rankPattern);
        m.put(PREFIX + "target_modules", targets);
        m.put(PREFIX + "use_dora", false);
        return m;
    }

    private static <T> T mostCommon(List<T> values) {
        Map<T, Integer> counts = new LinkedHashMap<>();
        for (T v : values) counts.merge(v, 1, Integer::sum);
        T best = null;
        int n = 0;
        for (var e : counts.entrySet()) if (e.getValue() > n) { best = e.getKey(); n = e.getValue(); }
        return best;
    }

    // ---------------------------------------------------------------- reading

    /** Reads a diffusers-format LoRA file (diffusers module names). */
    public static List<Adapter> read(Path file) {
        return read(file, null);
    }

    /**
     * Reads a LoRA file in the diffusers, kohya or stable-diffusion.cpp naming, with modules in the
     * diffusers or the official Ovis-Image layout of a transformer of {@code config} (null: diffusers
     * names only). Adapters come back sorted by diffusers module path.
     */
    public static List<Adapter> read(Path file, TransformerConfig config) {
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile st = SafetensorsFile.read(file, arena);
            PeftConfig peft = PeftConfig.parse(file, st.metadata().get(METADATA_KEY));
            LoraModuleNames names = config == null ? null : LoraModuleNames.of(config);
            Map<Source, Raw> raws = collect(file, st.tensors(), names);
            Map<String, Adapter> out = new TreeMap<>();
            List<Raw> official = new ArrayList<>();
            for (Raw raw : raws.values()) {
                if (raw.source.official()) official.add(raw);
                else put(file, out, raw.toAdapter(file, peft));
            }
            if (!official.isEmpty()) for (Adapter ad : names.mapOfficial(file, official, peft)) put(file, out, ad);
            if (names != null)
                for (String module : out.keySet())
                    if (!names.isDiffusersModule(module)) throw new OvisException(file + ": the transformer has no linear module " + module);
            if (out.isEmpty()) throw new OvisException(file + ": no LoRA tensors (lora_A / lora_B) found");
            return List.copyOf(out.values());
        }
    }

    private static void put(Path file, Map<String, Adapter> out, Adapter ad) {
        if (out.put(ad.module(), ad) != null) throw new OvisException(file + ": two adapters for module " + ad.module());
    }

    /** A module as the file names it: its path and whether that path is in the official layout. */
    record Source(String module, boolean official) {}

    /** One module's tensors as found in the file. */
    static final class Raw {
        final Source source;
        final String key; // the file's spelling, for messages
        Tensor a, b, alpha;

        Raw(Source source, String key) {
            this.source = source;
            this.key = key;
        }

        Adapter toAdapter(Path file, PeftConfig peft) {
            if (a == null && b == null) throw new OvisException(file + ": " + key + " has an alpha but no lora_A / lora_B");
            if (a == null) throw new OvisException(file + ": " + key + " has lora_B (lora_up) but no lora_A (lora_down)");
            if (b == null) throw new OvisException(file + ": " + key + " has lora_A (lora_down) but no lora_B (lora_up)");
            long[] as = a.shape(), bs = b.shape();
            if (as.length != 2 || bs.length != 2)
                throw new OvisException(file + ": " + key + ": lora_A " + Arrays.toString(as) + " / lora_B " + Arrays.toString(bs)
                        + " are not matrices (convolution LoRA is not supported)");
            int rank = Math.toIntExact(as[0]);
            if (bs[1] != rank)
                throw new OvisException(file + ": " + key + ": lora_A is " + Arrays.toString(as) + " (rank " + rank + ") but lora_B is "
                        + Arrays.toString(bs) + " (expected [out, " + rank + "])");
            Integer declared = source.official() ? null : peft.rank(source.module());
            if (declared != null && declared != rank)
                throw new OvisException(file + ": " + key + ": metadata gives rank " + declared + " but lora_A has " + rank + " rows");
            float al;
            if (alpha != null) {
                if (alpha.numel() != 1) throw new OvisException(file + ": " + key + ".alpha is not a scalar");
                al = alpha.getFloat(0);
            } else {
                Double fromMeta = source.official() ? null : peft.alpha(source.module());
                al = fromMeta != null ? fromMeta.floatValue() : rank;
            }
            return new Adapter(source.module(), a.toFloats(), as, b.toFloats(), bs, al, rank);
        }
    }

    private static final String[][] SUFFIXES = {
        {".lora_A.weight", "A"}, {".lora_B.weight", "B"}, {".lora_down.weight", "A"}, {".lora_up.weight", "B"}, {".alpha", "alpha"}};

    private static Map<Source, Raw> collect(Path file, Map<String, Tensor> tensors, LoraModuleNames names) {
        Map<Source, Raw> raws = new LinkedHashMap<>();
        for (var e : tensors.entrySet()) {
            String name = e.getKey();
            String part = null, key = null;
            for (String[] s : SUFFIXES)
                if (name.endsWith(s[0])) {
                    key = name.substring(0, name.length() - s[0].length());
                    part = s[1];
                    break;
                }
            if (part == null) throw new OvisException(file + ": tensor " + name + " is not a LoRA A, B or alpha"
                    + " (DoRA, LoKr, LoHa and full-weight differences are not supported)");
            String spelled = key;
            Raw raw = raws.computeIfAbsent(resolve(file, key, names), s -> new Raw(s, spelled));
            Tensor t = e.getValue();
            switch (part) {
                case "A" -> raw.a = once(file, raw.a, t);
                case "B" -> raw.b = once(file, raw.b, t);
                default -> raw.alpha = once(file, raw.alpha, t);
            }
        }
        return raws;
    }

    private static Tensor once(Path file, Tensor old, Tensor t) {
        if (old != null) throw new OvisException(file + ": tensors " + old.name() + " and " + t.name() + " adapt the same module");
        return t;
    }

    /** The module a key names, after its trainer's prefix. */
    private static Source resolve(Path file, String key, LoraModuleNames names) {
        for (String te : new String[] {"lora_te", "text_encoder", "te_", "lora_te1_", "lora_te2_"})
            if (key.startsWith(te)) throw new OvisException(file + ": " + key + " adapts the text encoder; only transformer LoRA is supported");
        if (key.startsWith("lora_unet_") || key.startsWith("lora_transformer_")) {
            if (names == null) throw new OvisException(file + ": kohya-style key " + key
                    + " needs the model's configuration to be mapped (use LoraFile.read(file, config))");
            boolean transformerPrefix = key.startsWith("lora_transformer_");
            String flat = key.substring(transformerPrefix ? "lora_transformer_".length() : "lora_unet_".length());
            Source s = names.unflatten(flat, !transformerPrefix);
            if (s == null) throw new OvisException(file + ": " + key + " names no linear module of the Ovis-Image transformer");
            return s;
        }
        String module = key;
        for (String prefix : new String[] {PREFIX, "base_model.model.", "model.diffusion_model.", "diffusion_model."})
            if (module.startsWith(prefix)) {
                module = module.substring(prefix.length());
                break;
            }
        if (names != null && names.isOfficialModule(module) && !names.isDiffusersModule(module)) return new Source(module, true);
        return new Source(module, false);
    }

    /** The transformer fields of peft's LoraConfig as diffusers stores it in the file's metadata. */
    record PeftConfig(Integer r, Double alpha, Map<String, Object> rankPattern, Map<String, Object> alphaPattern) {
        static PeftConfig parse(Path file, String json) {
            if (json == null) return new PeftConfig(null, null, Map.of(), Map.of());
            Object parsed;
            try {
                parsed = Json.parse(json);
            } catch (Json.JsonException e) {
                throw new OvisException(file + ": " + METADATA_KEY + " is not valid JSON (" + e.getMessage() + ")");
            }
            if (!(parsed instanceof Map<?, ?> m)) throw new OvisException(file + ": " + METADATA_KEY + " is not a JSON object");
            Map<String, Object> c = new HashMap<>();
            m.forEach((k, v) -> {
                String key = String.valueOf(k);
                if (key.startsWith(PREFIX)) c.put(key.substring(PREFIX.length()), v);
            });
            for (String unsupported : new String[] {"use_dora", "use_rslora", "lora_bias"})
                if (Boolean.TRUE.equals(c.get(unsupported)))
                    throw new OvisException(file + ": LoRA metadata sets " + unsupported + "=true, which is not supported");
            Object bias = c.get("bias");
            if (bias != null && !"none".equals(bias)) throw new OvisException(file + ": LoRA metadata sets bias=\"" + bias + "\"; only \"none\" is supported");
            return new PeftConfig(c.get("r") instanceof Number n ? n.intValue() : null,
                    c.get("lora_alpha") instanceof Number n ? n.doubleValue() : null, map(c.get("rank_pattern")), map(c.get("alpha_pattern")));
        }

        @SuppressWarnings("unchecked")
        private static Map<String, Object> map(Object v) {
            return v instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        }

        Integer rank(String module) {
            Object p = match(rankPattern, module);
            return p instanceof Number n ? Integer.valueOf(n.intValue()) : r;
        }

        Double alpha(String module) {
            Object p = match(alphaPattern, module);
            return p instanceof Number n ? Double.valueOf(n.doubleValue()) : alpha;
        }

        /** peft matches a pattern key k against a module path as the regex {@code (.*\.)?k$}: the path or a dotted suffix of it. */
        private static Object match(Map<String, Object> pattern, String module) {
            Object exact = pattern.get(module);
            if (exact != null) return exact;
            for (var e : pattern.entrySet()) if (module.endsWith("." + e.getKey())) return e.getValue();
            return null;
        }
    }
}
