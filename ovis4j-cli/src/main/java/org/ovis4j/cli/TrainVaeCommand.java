package org.ovis4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.ovis4j.train.run.VaeTrainConfig;
import org.ovis4j.train.run.VaeTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "vae", mixinStandardHelpOptions = true,
        description = {"Train a FLUX-architecture AutoencoderKL from scratch on tar shards of images, as FILE.json says "
                + "(README: \"Training the VAE\" lists every key).",
                "Checkpoints (each with a diffusers vae/ folder) go to the config's output folder every checkpoint_every steps; "
                        + "--resume continues the run exactly. At the end the latents' mean and std set shift_factor and "
                        + "scaling_factor of output/vae/."})
final class TrainVaeCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE.json", description = "The run's config.")
    Path config;

    @Option(names = "--resume", description = "Continue from the output folder's latest checkpoint (same config).")
    boolean resume;

    @Option(names = "--export", arity = "0..1", paramLabel = "STEP", fallbackValue = "-1",
            description = "Do not train: write output/vae/ from the latest checkpoint (or step STEP) with the latent statistics measured on it.")
    Long export;

    @Override
    public Integer call() {
        VaeTrainConfig cfg = VaeTrainConfig.read(config);
        TrainProgress progress = new TrainProgress(System.err, System.console() != null);
        if (export != null) {
            if (resume) throw new org.ovis4j.core.OvisException("--export and --resume do not go together (export reads a checkpoint, it does not train)");
            VaeTrainer.export(cfg, export < 0 ? null : export, progress);
            return 0;
        }
        try (VaeTrainer trainer = VaeTrainer.open(cfg, resume, progress)) {
            trainer.train();
        } finally {
            progress.finish();
        }
        return 0;
    }
}
