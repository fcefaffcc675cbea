package org.ovis4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.ovis4j.core.OvisException;
import org.ovis4j.train.run.ReferenceStep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "step", mixinStandardHelpOptions = true,
        description = {"One training step on a batch stored with the keys of the goldens' training vectors (flow matching, "
                + "LoRA, VAE, Diffusion-DPO or Flow-GRPO, told apart by their keys); writes the loss, the intermediates and every "
                + "gradient under the same keys.",
                "With --adamw (flow-matching and LoRA batches): clipping and two AdamW steps with that file's hp.* and second batch (in.step2.*)."})
final class TrainStepCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;

    @Option(names = "--batch", required = true, paramLabel = "FILE.safetensors", description = "The batch (in.*, and LoRA weights or hp.* where needed).")
    Path batch;

    @Option(names = "--out", required = true, paramLabel = "OUT.safetensors", description = "Where to write the results.")
    Path out;

    @Option(names = "--adamw", paramLabel = "ADAMW.safetensors", description = "Optimizer hyper-parameters hp.* and the second batch in.step2.*.")
    Path adamw;

    @Override
    public Integer call() {
        for (Path p : adamw == null ? new Path[] {batch} : new Path[] {batch, adamw})
            if (!Files.isRegularFile(p)) throw new OvisException(p + ": file not found");
        Path dir = out.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) throw new OvisException(dir + ": output folder does not exist");
        long t0 = System.nanoTime();
        ReferenceStep.Summary s = ReferenceStep.run(model.folder(), batch, adamw, out);
        System.err.printf("%s step: loss %.9g; wrote %d tensors to %s in %.1f s%n", s.kind().name().toLowerCase().replace('_', ' '),
                s.loss(), s.tensors(), out, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
