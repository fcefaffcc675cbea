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
 * Renders the run's fixed sample prompts with the current weights through the inference pipeline
 * itself, so a sample is what {@code ovis4j generate} would draw from the same weights: trained
 * transformer weights are written as a complete model folder ({@link TransformerFolder}: the
 * transformer, the base's other components linked) that {@link OvisImage} loads, and removed afterwards;
 * LoRA adapters are given to the pipeline over the unchanged base ({@code generate --lora}'s path).
 * Prompt i uses seed {@code seed + i}, the same at every step, so successive samples differ only by
 * training. Images go to {@code samples/step-NNNNNN/NN.png}.
 */
final class SampleRenderer {
    private final TrainConfig.Samples samples;
    private final CheckpointFolder base;
    private final TransformerConfig config;
    private final int width, height, maxSequenceLength;
    private final Path root;

    /** {@code writesTransformer}: samples of trained transformer weights (else of LoRA adapters over the base). */
    SampleRenderer(TrainConfig.Samples samples, CheckpointFolder base, TransformerConfig config, boolean writesTransformer, int trainWidth,
                   int trainHeight, int trainMsl, Path runRoot) {
        if (writesTransformer && !TransformerFolder.canComplete(base))
            throw new OvisException(base.root() + ": rendering samples needs a diffusers-layout model folder (this one is "
                    + base.layout().name().toLowerCase() + "); remove \"samples\" from the config or use the diffusers layout");
        this.samples = samples;
        this.base = base;
        this.config = config;
        this.width = samples.width() > 0 ? samples.width() : trainWidth;
        this.height = samples.height() > 0 ? samples.height() : trainHeight;
        this.maxSequenceLength = samples.maxSequenceLength() > 0 ? samples.maxSequenceLength() : trainMsl;
        this.root = runRoot.resolve("samples");
        for (int i = 0; i < samples.prompts().size(); i++) generation(i).validate(); // a bad size fails before training
    }

    long every() {
        return samples.every();
    }

    private Generation generation(int i) {
        return Generation.of(samples.prompts().get(i)).negativePrompt(samples.negativePrompt()).size(width, height)
                .steps(samples.steps()).guidance(samples.guidance()).seed(samples.seed() + i).maxSequenceLength(maxSequenceLength);
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
            throw new OvisException(root.resolve(RunFolder.name(step)) + ": cannot render samples (" + e.getMessage() + ")");
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
        boolean exact = samples.precision() == Precision.FP32;
        ComputeContext context = ComputeContext.create(exact ? "auto" : ComputeContext.requestedBackend(), exact);
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new OvisException(out + ": cannot create (" + e.getMessage() + ")");
        }
        List<Lora> loras = adapters.isEmpty() ? List.of() : List.of(Lora.of("run adapters at step " + step, adapters));
        try (OvisImage pipeline = OvisImage.load(model, samples.precision(), context, loras)) {
            for (int i = 0; i < samples.prompts().size(); i++) {
                Path png = out.resolve(String.format("%02d.png", i));
                pipeline.generate(generation(i)).writePng(png);
                written.add(png);
            }
        }
        return written;
    }
}
