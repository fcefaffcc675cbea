package org.ovis4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.ovis4j.checkpoint.Quantizer;
import org.ovis4j.core.OvisException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Write a copy of a checkpoint with the transformer and text-encoder matrices in Q8_0.")
final class QuantizeCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;

    @Option(names = "--type", defaultValue = "q8_0", description = "Quantization type: q8_0 (default).")
    String type;

    @Option(names = "--out", required = true, description = "Output folder (created; must be empty or absent).")
    Path out;

    @Override
    public Integer call() {
        if (!type.equalsIgnoreCase("q8_0")) throw new OvisException("unknown quantization type \"" + type + "\" (expected q8_0)");
        long t0 = System.nanoTime();
        Quantizer.q8_0(model.folder(), out, System.err::println);
        System.err.printf("wrote q8_0 checkpoint to %s in %.1f s%n", out, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
