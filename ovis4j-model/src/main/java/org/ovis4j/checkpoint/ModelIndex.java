package org.ovis4j.checkpoint;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;

/**
 * A diffusers {@code model_index.json}: the pipeline class and, per component, {@code [library, class]}.
 * It is read only to refuse what is not an Ovis-Image pipeline before any weights are opened (a
 * truncated file, or a FLUX or Stable Diffusion folder whose sub-folders look alike); the loader
 * takes the architecture from each component's own config.
 *
 * <p>The component classes accepted are the ones {@code OvisImagePipeline}'s constructor takes, and the
 * variants that hold the same weights: the text encoder may be saved as {@code Qwen3ForCausalLM}
 * (weights under {@code model.}, which the loader accepts) and the tokenizer as the slow or fast
 * Qwen2 class (one {@code tokenizer.json}). The scheduler may be absent or null: defaults apply.
 */
public record ModelIndex(Path file, Map<String, String> classes) {
    public static final String FILE = "model_index.json";
    public static final String PIPELINE = "OvisImagePipeline";

    /** Component → accepted class names; all but the scheduler are required. */
    static final Map<String, Set<String>> KNOWN = knownClasses();
    static final Set<String> OPTIONAL = Set.of("scheduler");

    private static Map<String, Set<String>> knownClasses() {
        Map<String, Set<String>> m = new LinkedHashMap<>();
        m.put("transformer", Set.of("OvisImageTransformer2DModel"));
        m.put("text_encoder", Set.of("Qwen3Model", "Qwen3ForCausalLM"));
        m.put("tokenizer", Set.of("Qwen2Tokenizer", "Qwen2TokenizerFast"));
        m.put("vae", Set.of("AutoencoderKL"));
        m.put("scheduler", Set.of("FlowMatchEulerDiscreteScheduler"));
        return m;
    }

    /** Reads and checks {@code file}; every error is one line naming the file. */
    public static ModelIndex read(Path file) {
        Config c = Config.read(file);
        Object pipeline = c.map().get("_class_name");
        if (pipeline == null) throw new OvisException(file + ": no \"_class_name\" (expected \"" + PIPELINE + "\")");
        if (!PIPELINE.equals(pipeline))
            throw new OvisException(file + ": \"_class_name\" is " + quoted(pipeline) + ", not \"" + PIPELINE + "\": not an Ovis-Image checkpoint");
        Map<String, String> classes = new LinkedHashMap<>();
        for (Map.Entry<String, Set<String>> e : KNOWN.entrySet()) {
            String component = e.getKey();
            Object entry = c.map().get(component);
            boolean optional = OPTIONAL.contains(component);
            if (entry == null && optional) continue;
            if (entry == null) throw new OvisException(file + ": no \"" + component + "\" entry");
            if (!(entry instanceof List<?> pair) || pair.size() != 2)
                throw new OvisException(file + ": \"" + component + "\" must be [library, class], got " + quoted(entry));
            if (pair.get(1) == null && optional) continue;
            if (!(pair.get(1) instanceof String cls) || !e.getValue().contains(cls))
                throw new OvisException(file + ": " + component + " class " + quoted(pair.get(1)) + " is not one ovis4j loads (expected "
                        + String.join(" or ", e.getValue().stream().sorted().toList()) + ")");
            classes.put(component, cls);
        }
        return new ModelIndex(file, Map.copyOf(classes));
    }

    private static String quoted(Object v) {
        return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
    }
}
