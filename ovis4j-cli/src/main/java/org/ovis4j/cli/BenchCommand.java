package org.ovis4j.cli;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.kernel.MatmulBackend;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.PositionEmbedding;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.dit.TransformerWorkspace;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;
import org.ovis4j.vae.VaeTiling;
import org.ovis4j.tokenizer.OvisPrompt;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time one matrix multiply (--gemm) or each component of a checkpoint (--model).")
final class BenchCommand implements Callable<Integer> {
    @ArgGroup(multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--gemm", description = "MxKxN: M activation rows times a K x N weight stored as a model layer.")
        String gemm;

        @Option(names = "--model", paramLabel = "DIR|NAMESPACE/NAME[@REV]",
                description = "Checkpoint folder or Hub model: times text encoder, one transformer forward, VAE decode.")
        String model;
    }

    @Option(names = "--dtype", defaultValue = "bf16", description = "Weight dtype for --gemm: f32, bf16, or int8 (W8A8, --backend onednn only) (default ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--backend", description = "Matmul backend: auto, java or onednn (default: $OVIS4J_BACKEND, else auto).")
    String backend;

    @Option(names = "--pull", description = "Download the --model from the Hub into the cache first, as ovis4j pull does.")
    boolean pull;

    @Option(names = "--width", defaultValue = "512") int width;
    @Option(names = "--height", defaultValue = "512") int height;
    @Option(names = "--max-sequence-length", defaultValue = "256") int maxSequenceLength;
    @Option(names = "--precision", defaultValue = "bf16", description = "For --model: fp32, bf16 or int8 (default ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--vae-tiling", defaultValue = "auto", description = "For --model: auto or off, as for generate (default ${DEFAULT-VALUE}).")
    String vaeTiling;

    @Option(names = "--forwards", defaultValue = "2", description = "For --model: transformer forwards to time; the first includes preparing the weights (default ${DEFAULT-VALUE}).")
    int forwards;

    @Option(names = "--repeat", defaultValue = "5", description = "Timed runs for --gemm after one warm-up (default ${DEFAULT-VALUE}).")
    int repeat;

    @Override
    public Integer call() {
        VaeTiling.parse(vaeTiling); // a bad value fails before the slow part
        if (forwards < 1) throw new OvisException("--forwards must be at least 1, got " + forwards);
        ComputeContext context = ComputeContext.create(backendName(), target.model != null && Precision.parse(precision) == Precision.FP32);
        return target.gemm != null ? gemm(context) : model(context);
    }

    private int gemm(ComputeContext context) {
        String[] p = target.gemm.toLowerCase().split("x");
        if (p.length != 3) throw new OvisException("--gemm wants MxKxN, got \"" + target.gemm + "\"");
        int m, k, n;
        try {
            m = Integer.parseInt(p[0]);
            k = Integer.parseInt(p[1]);
            n = Integer.parseInt(p[2]);
        } catch (NumberFormatException e) {
            throw new OvisException("--gemm wants three positive integers MxKxN, got \"" + target.gemm + "\"");
        }
        if (m <= 0 || k <= 0 || n <= 0) throw new OvisException("--gemm sizes must be positive");
        boolean int8 = dtype.equalsIgnoreCase("int8");
        DType type = switch (dtype.toLowerCase()) {
            case "f32", "fp32" -> DType.F32;
            case "bf16", "int8" -> DType.BF16;
            default -> throw new OvisException("unknown dtype \"" + dtype + "\" for --gemm (expected f32, bf16 or int8)");
        };
        MatmulBackend backendNow = context.backend();
        if (int8 && !backendNow.name().equals("onednn"))
            throw new OvisException("--dtype int8 needs --backend onednn (the " + backendNow.name() + " backend has no int8 path)");
        SplittableRandom rnd = new SplittableRandom(1);
        float[] w = new float[Math.multiplyExact(k, n)];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextDouble() - 0.5);
        float[] x = new float[Math.multiplyExact(m, k)];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextDouble() - 0.5);
        Arena arena = Arena.ofShared();
        Tensor weight = Tensor.ofFloats("w", new long[] {n, k}, w, arena);
        if (type != DType.F32) weight = weight.convert(type, arena);
        long tp = System.nanoTime();
        MatmulBackend.Prepared layer = int8 ? prepareInt8(backendNow, weight) : backendNow.prepare(weight);
        double prepareSeconds = (System.nanoTime() - tp) / 1e9;
        float[] y = new float[Math.multiplyExact(m, n)];
        layer.multiply(x, 0, k, m, null, y, n, 0, false);
        double flops = 2.0 * m * k * n, best = Double.MAX_VALUE, total = 0;
        for (int r = 0; r < repeat; r++) {
            long t0 = System.nanoTime();
            layer.multiply(x, 0, k, m, null, y, n, 0, false);
            double s = (System.nanoTime() - t0) / 1e9;
            best = Math.min(best, s);
            total += s;
        }
        System.out.printf("threads %d, prepare %.3f s, %d runs: best %.4f s, mean %.4f s%n", Parallel.threads(), prepareSeconds,
                repeat, best, total / repeat);
        System.out.printf("gemm %d %d %d %s %s GFLOP/s=%.1f%n", m, k, n, int8 ? "int8" : type.name().toLowerCase(),
                backendNow.name(), flops / best / 1e9);
        arena.close();
        return 0;
    }

    /** The onednn backend's W8A8 path ({@code OneDnnMatmul.prepareInt8}), found reflectively: the CLI only has it at run time. */
    private static MatmulBackend.Prepared prepareInt8(MatmulBackend b, Tensor weight) {
        try {
            return (MatmulBackend.Prepared) b.getClass().getMethod("prepareInt8", Tensor.class).invoke(b, weight);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new OvisException("int8 prepare failed: " + e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new OvisException("backend " + b.name() + " has no int8 path: " + e);
        }
    }

    private int model(ComputeContext context) {
        Precision p = Precision.parse(precision);
        Path dir = ModelOption.resolve(target.model, pull); // before the clock starts: a pull is not load time
        long t0 = System.nanoTime();
        try (OvisImage pipe = OvisImage.load(dir, p, context)) {
            System.out.printf("load                 %8.2f s  (%s, %s backend, threads %d)%n", (System.nanoTime() - t0) / 1e9,
                    p.name().toLowerCase(), context.backend().name(), Parallel.threads());
            int msl = maxSequenceLength;
            OvisPrompt.Encoded enc = OvisPrompt.encode(pipe.tokenizer(), "A neon sign that says \"OPEN\" above a bakery door", msl);
            long t1 = System.nanoTime();
            float[] text = pipe.textEncoder().encode(enc.ids(), enc.validTokens());
            double textSeconds = (System.nanoTime() - t1) / 1e9;
            System.out.printf("text encoder         %8.2f s  (%d tokens)%n", textSeconds, enc.validTokens());
            pipe.releaseTextEncoderPages(); // as generate does

            TransformerConfig cfg = pipe.transformer().config();
            int h = height / 8, w = width / 8, gh = h / 2, gw = w / 2, img = gh * gw;
            float[] latents = GaussianNoise.sample(0, img * cfg.inChannels());
            float[] ids = PositionEmbedding.ids(msl, gh, gw);
            // The first forward also prepares (repacks) every weight once; the second is the steady cost.
            // One workspace for all of them, as a generation's denoising steps share one.
            TransformerWorkspace ws = new TransformerWorkspace();
            float[] v = null;
            double flops = transformerFlops(cfg, msl + img);
            for (int f = 1; f <= forwards; f++) {
                String run = "transformer forward " + f;
                long t2 = System.nanoTime();
                v = pipe.transformer().forward(ws, latents, img, new float[][] {text}, msl, 0.5f, ids)[0];
                double ditSeconds = (System.nanoTime() - t2) / 1e9;
                System.out.printf("%-20s %8.2f s  (%d tokens, %.1f GFLOP/s%s)%n", run, ditSeconds, msl + img,
                        flops / ditSeconds / 1e9, f == 1 ? ", includes preparing the weights" : "");
            }

            ws.release();
            pipe.collectDeadActivations(); // as generate does
            long t3 = System.nanoTime();
            float[] z = new float[16 * h * w];
            System.arraycopy(v, 0, z, 0, Math.min(z.length, v.length));
            VaeTiling tiling = VaeTiling.parse(vaeTiling);
            pipe.vae().decode(z, h, w, tiling);
            System.out.printf("vae decode           %8.2f s  (%dx%d%s)%n", (System.nanoTime() - t3) / 1e9, width, height,
                    tiling.appliesTo(h, w) ? ", tiles of " + tiling.tile() + " latents" : "");
        }
        System.out.printf("peak RSS             %8.2f GiB%n", peakRssBytes() / (double) (1L << 30));
        return 0;
    }

    /** Multiply-adds ×2 of the block matmuls and attention (embedders and AdaLN rows are negligible). */
    static double transformerFlops(TransformerConfig c, int tokens) {
        double d = c.innerDim(), f = c.mlpHidden(), blocks = c.numLayers() + c.numSingleLayers();
        double perRow = 4 * d * d + 3 * d * f; // qkv + out, SwiGLU in (2F) + out
        return 2 * blocks * (tokens * perRow + 2.0 * tokens * tokens * d);
    }

    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private String backendName() {
        return backend != null ? backend.toLowerCase() : ComputeContext.requestedBackend();
    }
}
