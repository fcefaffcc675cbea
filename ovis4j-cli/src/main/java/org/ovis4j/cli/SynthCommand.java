package org.ovis4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.ovis4j.checkpoint.Synthesizer;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.DType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a complete checkpoint (diffusers layout) with seeded random weights, for tests and benchmarks.")
final class SynthCommand implements Callable<Integer> {
    @Option(names = "--config", required = true,
            description = "tiny, 7b, or a JSON file {\"transformer\": {...}, \"text_encoder\": {...}, \"vae\": {...}}.")
    String config;

    @Option(names = "--dtype", defaultValue = "bf16", description = "Weight dtype: bf16, f16 or f32 (default ${DEFAULT-VALUE}; the VAE is always f32).")
    String dtype;

    @Option(names = "--tokenizer", required = true, description = "Folder holding tokenizer.json (and tokenizer_config.json).")
    Path tokenizer;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the weights (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, description = "Output folder (created; must be empty or absent).")
    Path out;

    @Override
    public Integer call() {
        Synthesizer.Spec spec = switch (config.toLowerCase()) {
            case "tiny" -> Synthesizer.tiny();
            case "7b" -> Synthesizer.ovis7B();
            default -> {
                Path f = Path.of(config);
                if (!Files.isRegularFile(f)) throw new OvisException(config + ": not tiny, 7b or an existing config file");
                yield Synthesizer.fromFile(f);
            }
        };
        DType type = switch (dtype.toLowerCase()) {
            case "bf16" -> DType.BF16;
            case "f16", "fp16" -> DType.F16;
            case "f32", "fp32" -> DType.F32;
            default -> throw new OvisException("unknown dtype \"" + dtype + "\" (expected bf16, f16 or f32)");
        };
        long t0 = System.nanoTime();
        Synthesizer.write(spec, type, tokenizer, out, seed, System.err::println);
        System.err.printf("wrote %s checkpoint to %s in %.1f s%n", spec.name(), out, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
