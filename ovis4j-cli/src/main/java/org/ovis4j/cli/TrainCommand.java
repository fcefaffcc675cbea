package org.ovis4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.ovis4j.core.json.Config;
import org.ovis4j.hub.ModelRef;
import org.ovis4j.train.run.TrainConfig;
import org.ovis4j.train.run.Trainer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train", mixinStandardHelpOptions = true, subcommands = {TrainStepCommand.class, TrainVaeCommand.class, TrainTextEncoderCommand.class},
        description = {"Train the transformer with flow matching: from scratch, full fine-tuning or LoRA, as FILE.json says "
                + "(README: \"Training\" lists every key); 'train vae' trains the VAE.",
                "Checkpoints go to the config's output folder every checkpoint_every steps; --resume continues the run exactly."})
final class TrainCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE.json", description = "The run's config.")
    Path config;

    @Option(names = "--resume", description = "Continue from the output folder's latest checkpoint (same config).")
    boolean resume;

    @Option(names = "--pull", description = "The config's \"model\" is a Hugging Face model: download it into the Hub cache first.")
    boolean pull;

    @Override
    public Integer call() {
        if (config == null) throw new CommandLine.ParameterException(spec.commandLine(), "--config FILE.json is required (or: train step ..., train vae ..., train text-encoder ...)");
        if (pull) pullModel();
        TrainConfig cfg = TrainConfig.read(config); // a Hub "model" is then found in the cache
        TrainProgress progress = new TrainProgress(System.err, System.console() != null);
        try (Trainer trainer = Trainer.open(cfg, resume, progress)) {
            trainer.train();
        } finally {
            progress.finish(); // ends the bar's line, so an error message starts on its own
        }
        return 0;
    }

    /** Pulls the config's "model" when it names a Hub model rather than a folder (TrainConfig then reads it from the cache). */
    private void pullModel() {
        if (Config.read(config).map().get("model") instanceof String model) {
            Path dir = config.toAbsolutePath().getParent();
            if (ModelRef.looksLike(model) && !Files.exists(dir.resolve(model))) ModelOption.resolve(model, true);
        }
    }
}
