package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.io.FileTrees;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.lora.Lora;
import org.ovis4j.lora.LoraAdapter;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;

/**
 * Draws a fixed list of prompts with the current weights through the inference pipeline itself, so an
 * image is what {@code ovis4j generate} would draw from the same weights: trained transformer weights
 * are written as a complete model folder ({@link TransformerFolder}: the transformer, the base's other
 * components linked) that {@link OvisImage} loads, and removed afterwards; LoRA adapters are given to the
 * pipeline over the unchanged base ({@code generate --lora}'s path). Prompt i uses seed
 * {@code seed + i}, the same at every step, so successive images differ only by training. Images go to
 * {@code <folder>/step-NNNNNN/<name>.png}. The run's samples ({@code samples/}, names 00, 01, ...) and
 * its learning curve ({@code eval/}, the evaluation prompts' ids) are both drawn by it.
 */
final class SampleRenderer {
    /** A prompt and the name of its image file (without .png). */
    record Prompt(String name, String text) {}

    private final List<Prompt> prompts;
    private final TrainConfig.Drawing drawing;
    private final CheckpointFolder base;
    private final TransformerConfig config;
    private final int width, height, maxSequenceLength;
    private final Path root;

    /** The run's sample prompts, into {@code samples/}. */
    static SampleRenderer samples(TrainConfig.Samples samples, CheckpointFolder base, TransformerConfig config, boolean writesTransformer,
                                  int trainWidth, int trainHeight, int trainMsl, Path runRoot) {
        List<Prompt> prompts = new ArrayList<>();
        for (int i = 0; i < samples.prompts().size(); i++) prompts.add(new Prompt(String.format("%02d", i), samples.prompts().get(i)));
        return new SampleRenderer(prompts, samples.drawing(), "samples", base, config, writesTransformer, trainWidth, trainHeight, trainMsl,
                runRoot.resolve("samples"));
    }

    /**
     * {@code writesTransformer}: images of trained transformer weights (else of LoRA adapters over the base);
     * {@code key}: the config key that asked for them, for the error when the base cannot be completed.
     */
    SampleRenderer(List<Prompt> prompts, TrainConfig.Drawing drawing, String key, CheckpointFolder base, TransformerConfig config,
                   boolean writesTransformer, int trainWidth, int trainHeight, int trainMsl, Path folder) {
        if (writesTransformer && !TransformerFolder.canComplete(base))
            throw new OvisException(base.root() + ": drawing images during training needs a diffusers-layout model folder (this one is "
                    + base.layout().name().toLowerCase() + "); remove \"" + key + "\" from the config or use the diffusers layout");
        this.prompts = List.copyOf(prompts);
        this.drawing = drawing;
        this.base = base;
        this.config = config;
        this.width = drawing.width() > 0 ? drawing.width() : trainWidth;
        this.height = drawing.height() > 0 ? drawing.height() : trainHeight;
        this.maxSequenceLength = drawing.maxSequenceLength() > 0 ? drawing.maxSequenceLength() : trainMsl;
        this.root = folder;
        for (int i = 0; i < prompts.size(); i++) generation(i).validate(); // a bad size fails before training
    }

    private Generation generation(int i) {
        return Generation.of(prompts.get(i).text()).negativePrompt(drawing.negativePrompt()).size(width, height)
                .steps(drawing.steps()).guidance(drawing.guidance()).seed(drawing.seed() + i).maxSequenceLength(maxSequenceLength);
    }

    /** The folder of step {@code step}'s images. */
    Path folder(long step) {
        return root.resolve(RunFolder.name(step));
    }

    /** The images of step {@code step} from these transformer weights. */
    List<Path> render(long step, List<TransformerFolder.Values> weights) {
        Path model = root.resolve(".model-" + RunFolder.name(step));
        try {
            FileTrees.delete(model);
            Files.createDirectories(model);
            TransformerFolder.writeTransformer(new RunFolder(root, RunFolder.Faults.NONE), model, config, weights);
            TransformerFolder.linkComponents(base, model);
            return draw(step, model, List.of());
        } catch (IOException e) {
            throw new OvisException(root.resolve(RunFolder.name(step)) + ": cannot draw its images (" + e.getMessage() + ")");
        } finally {
            FileTrees.deleteQuietly(model);
        }
    }

    /** The images of step {@code step} from the base model with these LoRA adapters. */
    List<Path> renderLora(long step, List<LoraAdapter> adapters) {
        return draw(step, base.root(), adapters);
    }

    private List<Path> draw(long step, Path model, List<LoraAdapter> adapters) {
        Path out = root.resolve(RunFolder.name(step));
        List<Path> written = new ArrayList<>();
        boolean exact = drawing.precision() == Precision.FP32;
        ComputeContext context = ComputeContext.create(exact ? "auto" : ComputeContext.requestedBackend(), exact);
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new OvisException(out + ": cannot create (" + e.getMessage() + ")");
        }
        List<Lora> loras = adapters.isEmpty() ? List.of() : List.of(Lora.of("run adapters at step " + step, adapters));
        try (OvisImage pipeline = OvisImage.load(model, drawing.precision(), context, loras)) {
            for (int i = 0; i < prompts.size(); i++) {
                Path png = out.resolve(prompts.get(i).name() + ".png");
                pipeline.generate(generation(i)).writePng(png);
                written.add(png);
            }
        }
        return written;
    }
}
