package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.checkpoint.Layout;
import org.ovis4j.checkpoint.Synthesizer;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.dit.TransformerConfig;

/**
 * A diffusers-layout checkpoint folder holding trained transformer weights and, linked from the base
 * model, its other components ({@code model_index.json}, tokenizer, text encoder, VAE, scheduler), so
 * that {@code OvisImage.load} and {@code ovis4j generate --model} read it as a whole model without
 * copying gigabytes of frozen weights. Links are symbolic links to the base's absolute paths (copies
 * where the file system has none). Only a diffusers-layout base can be completed this way.
 */
final class TransformerFolder {
    static final String WEIGHTS = "transformer/diffusion_pytorch_model.safetensors", CONFIG = "transformer/config.json";
    private static final List<String> COMPONENTS = List.of("model_index.json", "scheduler", "text_encoder", "tokenizer", "vae");

    /** One float32 tensor under its diffusers name. */
    record Values(String name, long[] shape, float[] values) {}

    private TransformerFolder() {}

    /** Whether {@link #linkComponents} can complete a folder from {@code base}. */
    static boolean canComplete(CheckpointFolder base) {
        return base.layout() == Layout.DIFFUSERS;
    }

    /** transformer/config.json and the weights (F32), each file announced to {@code folder}'s seam first. */
    static void writeTransformer(RunFolder folder, Path dir, TransformerConfig cfg, List<Values> tensors) throws IOException {
        Files.createDirectories(dir.resolve("transformer"));
        folder.writeAtomically(dir.resolve(CONFIG), Json.write(Synthesizer.transformerConfig(cfg), 2) + "\n");
        Path weights = dir.resolve(WEIGHTS);
        folder.beforeWrite(weights);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt").metadata("generator", "ovis4j train");
        for (Values t : tensors) w.addFloats(t.name(), DType.F32, t.shape(), t.values());
        w.write(weights);
    }

    /** Links the base model's components (all but the transformer) into {@code dir}. */
    static void linkComponents(CheckpointFolder base, Path dir) throws IOException {
        for (String c : COMPONENTS) {
            Path target = base.root().resolve(c).toAbsolutePath().normalize(), link = dir.resolve(c);
            if (!Files.exists(target)) continue;
            try {
                Files.createSymbolicLink(link, target);
            } catch (UnsupportedOperationException | IOException e) {
                copy(target, link);
            }
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            Files.copy(from, to);
            return;
        }
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(q);
                else Files.copy(p, q, LinkOption.NOFOLLOW_LINKS);
            }
        }
    }
}
