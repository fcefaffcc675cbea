package org.ovis4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.ovis4j.train.run.TextEncoderConfig;
import org.ovis4j.train.run.TextEncoderTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "text-encoder", mixinStandardHelpOptions = true,
        description = {"Pretrain a Qwen3 text encoder from scratch as a causal language model on captions (data engine shards or a "
                + "text file), tokenised with the Ovis template, as FILE.json says (README: \"Training a text encoder\").",
                "Each checkpoint holds a text_encoder/ folder the pipeline loads unmodified; --resume continues the run exactly."})
final class TrainTextEncoderCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE.json", required = true, description = "The run's config.")
    Path config;

    @Option(names = "--resume", description = "Continue from the output folder's latest checkpoint (same config).")
    boolean resume;

    @Override
    public Integer call() {
        TextEncoderConfig cfg = TextEncoderConfig.read(config);
        TrainProgress progress = new TrainProgress(System.err, System.console() != null);
        try {
            TextEncoderTrainer.open(cfg, resume, progress).train();
        } finally {
            progress.finish();
        }
        return 0;
    }
}
