package org.ovis4j.checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.ovis4j.core.OvisException;

/**
 * Where each component of a checkpoint lives on disk, for either {@link Layout}. No weights are opened
 * here (only {@code model_index.json} is read, to check it); this detects the layout and resolves paths,
 * with one-line errors for what is missing.
 */
public record CheckpointFolder(Path root, Layout layout) {
    public static final String ORIGINAL_TRANSFORMER = "ovis_image.safetensors";
    public static final String ORIGINAL_VAE = "ae.safetensors";
    public static final String ORIGINAL_LLM_DIR = "Ovis2.5-2B";

    /** Detects the layout of {@code root}; a {@code model_index.json} there must be an Ovis-Image one ({@link ModelIndex}). */
    public static CheckpointFolder detect(Path root) {
        if (!Files.exists(root)) throw new OvisException(root + ": folder not found");
        if (!Files.isDirectory(root)) throw new OvisException(root + ": not a folder");
        Path index = root.resolve(ModelIndex.FILE);
        if (Files.exists(index)) {
            ModelIndex.read(index); // a malformed or foreign index fails here, before any weights are opened
            return new CheckpointFolder(root, Layout.DIFFUSERS);
        }
        if (Files.isDirectory(root.resolve("transformer"))) return new CheckpointFolder(root, Layout.DIFFUSERS);
        if (Files.isRegularFile(root.resolve(ORIGINAL_TRANSFORMER)))
            return new CheckpointFolder(root, Layout.ORIGINAL);
        throw new OvisException(root + ": not an Ovis-Image checkpoint (expected model_index.json or " + ORIGINAL_TRANSFORMER + ")");
    }

    private Path require(Path p, String what) {
        if (!Files.exists(p)) throw new OvisException(p + ": " + what + " not found");
        return p;
    }

    /** Transformer weight files. */
    public List<Path> transformerFiles() {
        return layout == Layout.DIFFUSERS ? weightFiles(require(root.resolve("transformer"), "transformer folder"))
                : List.of(require(root.resolve(ORIGINAL_TRANSFORMER), "transformer weights"));
    }

    /** diffusers: transformer/config.json; original: the optional ovis_image_args.json (null when absent). */
    public Path transformerConfig() {
        if (layout == Layout.DIFFUSERS) return require(root.resolve("transformer/config.json"), "transformer config");
        Path p = root.resolve("ovis_image_args.json");
        return Files.isRegularFile(p) ? p : null;
    }

    public List<Path> vaeFiles() {
        return layout == Layout.DIFFUSERS ? weightFiles(require(root.resolve("vae"), "vae folder"))
                : List.of(require(root.resolve(ORIGINAL_VAE), "VAE weights"));
    }

    /** diffusers: vae/config.json; original: the optional ae_params.json (null when absent: FLUX.1 values). */
    public Path vaeConfig() {
        if (layout == Layout.DIFFUSERS) return require(root.resolve("vae/config.json"), "vae config");
        Path p = root.resolve("ae_params.json");
        return Files.isRegularFile(p) ? p : null;
    }

    /** The folder holding the text encoder's config.json and weights. */
    public Path textEncoderDir() {
        return layout == Layout.DIFFUSERS ? require(root.resolve("text_encoder"), "text encoder folder")
                : require(root.resolve(ORIGINAL_LLM_DIR), "Ovis2.5-2B folder");
    }

    public List<Path> textEncoderFiles() {
        return weightFiles(textEncoderDir());
    }

    public Path tokenizerJson() {
        Path dir = layout == Layout.DIFFUSERS ? root.resolve("tokenizer") : root.resolve(ORIGINAL_LLM_DIR);
        return require(dir.resolve("tokenizer.json"), "tokenizer");
    }

    /** scheduler_config.json, or null when the checkpoint has none (then the Ovis defaults apply). */
    public Path schedulerConfig() {
        Path p = root.resolve("scheduler/scheduler_config.json");
        return Files.isRegularFile(p) ? p : null;
    }

    private static List<Path> weightFiles(Path dir) {
        return org.ovis4j.core.safetensors.TensorStore.weightFiles(dir);
    }
}
