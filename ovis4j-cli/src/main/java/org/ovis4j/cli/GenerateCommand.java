package org.ovis4j.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.lora.Lora;
import org.ovis4j.pipeline.GeneratedImage;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;
import org.ovis4j.vae.VaeTiling;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate an image from a text prompt.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    NegativePrompt negativePrompt;

    /** The prompt, on the command line or in a file: exactly one of the two. */
    static final class Prompt {
        @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "What to draw; quote the text that should appear.")
        String text;

        @Option(names = "--prompt-file", required = true, paramLabel = "FILE",
                description = "Read the prompt from FILE (UTF-8; - is standard input; one final line ending is dropped).")
        Path file;

        String read() {
            return text != null ? text : PromptFile.read(file);
        }
    }

    static final class NegativePrompt {
        @Option(names = "--negative-prompt", required = true, paramLabel = "TEXT", description = "What to avoid (default: empty).")
        String text;

        @Option(names = "--negative-prompt-file", required = true, paramLabel = "FILE",
                description = "Read the negative prompt from FILE (as --prompt-file).")
        Path file;

        String read() {
            return text != null ? text : PromptFile.read(file);
        }
    }

    @Option(names = "--width", description = "Image width in pixels, a multiple of 16 (default 1024, or from --latents).")
    Integer width;

    @Option(names = "--height", description = "Image height in pixels, a multiple of 16 (default 1024, or from --latents).")
    Integer height;

    @Option(names = "--steps", defaultValue = "50", description = "Denoising steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--guidance", defaultValue = "5.0", description = "Classifier-free guidance scale; at most 1 disables it (default ${DEFAULT-VALUE}).")
    float guidance;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the initial noise (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--latents", description = "Safetensors file with one tensor 'latents' [1,16,H/8,W/8] used as the initial noise instead of the seed.")
    Path latents;

    @Option(names = "--max-sequence-length", defaultValue = "256", description = "Prompt tokens kept after the template prefix (default ${DEFAULT-VALUE}).")
    int maxSequenceLength;

    @Option(names = "--precision", defaultValue = "bf16", description = "fp32 (parity with the reference), bf16, or int8 (W8A8 transformer blocks; needs the onednn backend) (default ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--backend", description = "Matmul backend: auto, java or onednn (default: $OVIS4J_BACKEND, else auto).")
    String backend;

    @Option(names = "--vae-tiling", defaultValue = "auto", description = "auto: decode images larger than 512 pixels a side in blended tiles "
            + "(bounds memory; pixels differ slightly from a whole decode); off: always decode whole, as the reference (default ${DEFAULT-VALUE}).")
    String vaeTiling;

    @Option(names = "--output", defaultValue = "output.png", description = "PNG file to write (default ${DEFAULT-VALUE}).")
    Path output;

    @Option(names = "--lora", paramLabel = "FILE[:SCALE]", description = "Apply a LoRA safetensors file (diffusers, kohya or "
            + "stable-diffusion.cpp names) to the transformer, its updates scaled by SCALE x alpha/rank as diffusers' "
            + "set_adapters weights are (SCALE default 1; 0 turns it off). Repeatable: the updates add up.")
    List<String> loraOptions = new ArrayList<>();

    @Override
    public Integer call() {
        Precision p = Precision.parse(precision);
        VaeTiling tiling = VaeTiling.parse(vaeTiling);
        ComputeContext context = ComputeContext.create(backendName(), p == Precision.FP32);
        checkOutput();
        if (PromptFile.isStandardInput(prompt.file) && negativePrompt != null && PromptFile.isStandardInput(negativePrompt.file))
            throw new OvisException("--prompt-file and --negative-prompt-file cannot both read standard input (-)");
        String promptText = prompt.read();
        String negativeText = negativePrompt != null ? negativePrompt.read() : "";

        Generation g = Generation.of(promptText).negativePrompt(negativeText).steps(steps).guidance(guidance)
                .seed(seed).maxSequenceLength(maxSequenceLength);
        g.validate(); // steps, guidance, sequence length (and the default size) before anything is read
        if (latents != null) {
            float[] noise = readLatents(g);
            g.initialNoise(noise);
        } else {
            g.size(width != null ? width : 1024, height != null ? height : 1024);
        }
        g.validate(); // before the (slow) load, so a bad size fails at once
        Path modelDir = model.folder(); // a Hub model: from the cache (pulled with --pull), after the quick checks above
        CheckpointFolder folder = CheckpointFolder.detect(modelDir);
        List<Lora> loras = readLoras(TransformerConfig.read(folder));

        boolean terminal = System.console() != null;
        g.listener(new ProgressBar(System.err, terminal));
        long t0 = System.nanoTime();
        System.err.println("loading " + model.value + " (" + p.name().toLowerCase() + ")...");
        try (OvisImage pipeline = OvisImage.load(modelDir, p, context, loras)) {
            pipeline.vaeTiling(tiling);
            long t1 = System.nanoTime();
            GeneratedImage image = pipeline.generate(g);
            image.writePng(output);
            long t2 = System.nanoTime();
            System.err.printf("wrote %s (%dx%d) in %.1f s (load %.1f s)%n", output, image.width(), image.height(),
                    (t2 - t0) / 1e9, (t1 - t0) / 1e9);
        }
        return 0;
    }

    /** A number after the last colon of a --lora value is its scale; anything else belongs to the file name. */
    private static final Pattern SCALE = Pattern.compile("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?");

    /**
     * Every --lora file, read and checked against the checkpoint's transformer config (modules and
     * shapes) before the model loads: a LoRA for another model fails in a second, not after minutes
     * of converting weights.
     */
    private List<Lora> readLoras(TransformerConfig config) {
        List<Lora> out = new ArrayList<>();
        for (String value : loraOptions) {
            int colon = value.lastIndexOf(':');
            boolean scaled = colon > 0 && SCALE.matcher(value.substring(colon + 1)).matches();
            Path file = Path.of(scaled ? value.substring(0, colon) : value);
            float scale = scaled ? Float.parseFloat(value.substring(colon + 1)) : 1f;
            if (!Float.isFinite(scale)) throw new OvisException("--lora " + value + ": scale is not a finite number");
            out.add(Lora.read(file, scale, config));
        }
        return out;
    }

    /** The --latents tensor, setting the size from its shape when --width/--height were not given. */
    private float[] readLatents(Generation g) {
        var file = SafetensorsFile.read(latents, java.lang.foreign.Arena.ofAuto());
        Tensor t = file.tensors().get("latents");
        if (file.tensors().size() != 1) throw new OvisException(latents + ": expected exactly one tensor (\"latents\"), found " + file.tensors().size());
        if (t == null) throw new OvisException(latents + ": no tensor named \"latents\"");
        if (!t.dtype().isFloat()) throw new OvisException(latents + ": latents must be a float tensor, not " + t.dtype());
        long[] s = t.shape();
        if (s.length != 4 || s[0] != 1 || s[1] != 16)
            throw new OvisException(latents + ": latents must have shape [1, 16, H/8, W/8], got " + java.util.Arrays.toString(s));
        int h = Math.toIntExact(s[2] * 8), w = Math.toIntExact(s[3] * 8);
        if ((width != null && width != w) || (height != null && height != h))
            throw new OvisException(latents + ": latents are for " + w + "x" + h + ", not the requested "
                    + (width != null ? width : w) + "x" + (height != null ? height : h));
        g.size(w, h);
        try {
            g.validate();
        } catch (OvisException e) {
            throw new OvisException(latents + ": " + e.getMessage() + " (latents of shape " + java.util.Arrays.toString(s)
                    + " are for a " + w + "x" + h + " image)");
        }
        return t.toFloats();
    }

    /**
     * The PNG can be written where asked: checked before the model loads, since otherwise a bad path
     * fails only after the whole generation (hours for the 7B model on a CPU). Writability is probed by
     * creating a file there, as PngWriter will (permissions alone do not tell for root or ACLs).
     */
    private void checkOutput() {
        if (output.getFileName() == null || !output.getFileName().toString().toLowerCase().endsWith(".png"))
            throw new OvisException(output + ": output must be a .png file");
        if (Files.isDirectory(output)) throw new OvisException(output + ": is a folder; --output names the PNG file to write");
        Path outDir = output.toAbsolutePath().getParent();
        if (!Files.exists(outDir)) throw new OvisException(outDir + ": output folder does not exist");
        if (!Files.isDirectory(outDir)) throw new OvisException(outDir + ": is not a folder, so " + output.getFileName() + " cannot be written in it");
        try {
            Files.delete(Files.createTempFile(outDir, "." + output.getFileName(), ".probe"));
        } catch (java.nio.file.AccessDeniedException e) {
            throw new OvisException(outDir + ": cannot write the output here (permission denied)");
        } catch (IOException e) {
            throw new OvisException(outDir + ": cannot write the output here (" + e.getMessage() + ")");
        }
    }

    private String backendName() {
        return backend != null ? backend.toLowerCase() : ComputeContext.requestedBackend();
    }
}
