package org.ovis4j.train.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.dit.PositionEmbedding;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.train.dit.Adapters;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.dit.TransformerBatch;
import org.ovis4j.train.dit.TransformerPass;
import org.ovis4j.train.lora.LoraAdapters;
import org.ovis4j.train.loss.FlowMatching;
import org.ovis4j.train.optim.AdamW;
import org.ovis4j.train.optim.ComputePrecision;
import org.ovis4j.train.optim.ComputeWeights;
import org.ovis4j.train.optim.GradClip;

/**
 * Training throughput of the MMDiT: builds a {@link TrainableTransformer} from a checkpoint folder and
 * runs warm-up steps, then timed steps, of forward + flow-matching loss, backward, clipping and AdamW on
 * one fixed random batch, timing the three phases apart. Reports samples/s, GFLOP/s per phase
 * ({@link StepFlops}) and the process's peak resident memory. Not a test: no thresholds. The same batch
 * can be written to a file so that another implementation (scripts/bench/train-throughput.sh runs
 * diffusers' model in PyTorch) trains on exactly the same numbers.
 *
 * <p>Full fine-tuning trains every parameter; with a LoRA rank the checkpoint's weights are frozen and
 * rank-r adapters (peft initialisation: A uniform in ±1/√in, B zero) sit on every attention projection
 * ({@link #attentionTargets}).
 */
public final class TrainingThroughput {
    private TrainingThroughput() {}

    /**
     * What to run.
     *
     * @param batch        samples per step (each with its own σ, spread over (0, 1))
     * @param imageTokens  packed latent tokens per sample (a 2x2-patch grid of near-square shape)
     * @param textTokens   text rows per sample
     * @param loraRank     0: full fine-tuning; otherwise LoRA of this rank on the attention projections
     * @param batchFile    where to write the batch (x0, noise, prompt_embeds, sigma, txt_ids, img_ids), or null
     */
    public record Options(Path checkpoint, int batch, int imageTokens, int textTokens, int warmup, int steps,
                          boolean recompute, int loraRank, double loraAlpha, long seed, double lr, double weightDecay,
                          double maxGradNorm, Path batchFile, ComputePrecision precision) {
        public Options {
            if (precision == null) throw new OvisException("training benchmark: no compute precision given");
            if (checkpoint == null) throw new OvisException("training benchmark: no checkpoint folder given");
            if (batch < 1 || imageTokens < 1 || textTokens < 0)
                throw new OvisException("training benchmark: batch, image tokens and text tokens must be positive (got " + batch
                        + ", " + imageTokens + ", " + textTokens + ")");
            if (warmup < 0 || steps < 1)
                throw new OvisException("training benchmark: needs at least one timed step and no negative warm-up");
            if (loraRank < 0) throw new OvisException("training benchmark: LoRA rank must not be negative, got " + loraRank);
        }

        /** Batch 2, 256 image + 64 text tokens, 1 warm-up and 3 timed steps, full fine-tuning, AdamW lr 1e-4 wd 0.01, clip 1. */
        public static Options defaults(Path checkpoint) {
            return new Options(checkpoint, 2, 256, 64, 1, 3, false, 0, 0, 1, 1e-4, 0.01, 1.0, null, ComputePrecision.FP32);
        }

        public Options withBatch(int b, int image, int text) {
            return new Options(checkpoint, b, image, text, warmup, steps, recompute, loraRank, loraAlpha, seed, lr, weightDecay, maxGradNorm, batchFile, precision);
        }

        public Options withSteps(int warm, int timed) {
            return new Options(checkpoint, batch, imageTokens, textTokens, warm, timed, recompute, loraRank, loraAlpha, seed, lr, weightDecay, maxGradNorm, batchFile, precision);
        }

        public Options withRecompute(boolean r) {
            return new Options(checkpoint, batch, imageTokens, textTokens, warmup, steps, r, loraRank, loraAlpha, seed, lr, weightDecay, maxGradNorm, batchFile, precision);
        }

        /** LoRA of {@code rank} with {@code alpha} (0: full fine-tuning). */
        public Options withLora(int rank, double alpha) {
            return new Options(checkpoint, batch, imageTokens, textTokens, warmup, steps, recompute, rank, alpha, seed, lr, weightDecay, maxGradNorm, batchFile, precision);
        }

        public Options withSeed(long s) {
            return new Options(checkpoint, batch, imageTokens, textTokens, warmup, steps, recompute, loraRank, loraAlpha, s, lr, weightDecay, maxGradNorm, batchFile, precision);
        }

        public Options withOptimizer(double learningRate, double decay, double clip) {
            return new Options(checkpoint, batch, imageTokens, textTokens, warmup, steps, recompute, loraRank, loraAlpha, seed, learningRate, decay, clip, batchFile, precision);
        }

        /** The linear products in fp32 or in bf16 (oneDNN; fp32, said once, where it cannot run). */
        public Options withPrecision(ComputePrecision p) {
            return new Options(checkpoint, batch, imageTokens, textTokens, warmup, steps, recompute, loraRank, loraAlpha, seed, lr, weightDecay, maxGradNorm, batchFile, p);
        }

        public Options withBatchFile(Path file) {
            return new Options(checkpoint, batch, imageTokens, textTokens, warmup, steps, recompute, loraRank, loraAlpha, seed, lr, weightDecay, maxGradNorm, file, precision);
        }
    }

    /**
     * What was measured; times in seconds, one entry per timed step.
     *
     * @param losses        the loss of every step, warm-up included (step 1 first)
     * @param peakRssBytes  VmHWM at the end (-1 where /proc is missing)
     * @param cpuSeconds    CPU time of the whole process (every thread, native ones included) per timed step:
     *                      on a shared machine it measures the work where wall time measures the contention
     */
    public record Result(Options options, String compute, int threads, long parameters, long trained, double buildSeconds, StepFlops flops,
                         double[] forwardSeconds, double[] backwardSeconds, double[] optimizerSeconds, double[] losses,
                         long peakRssBytes, double[] cpuSeconds) {
        public double forward() { return median(forwardSeconds); }
        public double backward() { return median(backwardSeconds); }
        public double optimizer() { return median(optimizerSeconds); }
        public double step() { return forward() + backward() + optimizer(); }
        public double samplesPerSecond() { return options.batch() / step(); }
        public double cpuStep() { return median(cpuSeconds); }
        /** Samples per second of CPU time: the throughput per core, robust to other load on the machine. */
        public double samplesPerCpuSecond() { return options.batch() / cpuStep(); }
        public double forwardGflops() { return flops.forward() / forward() / 1e9; }
        public double backwardGflops() { return flops.backward() / backward() / 1e9; }
        public double optimizerGflops() { return flops.optimizer() / optimizer() / 1e9; }

        /** One line of key=value pairs (what the benchmark script parses). */
        public String summary() {
            Options o = options;
            return String.format(Locale.ROOT, "java train batch=%d image_tokens=%d text_tokens=%d threads=%d mode=%s recompute=%b "
                            + "params=%d trained=%d steps=%d forward_s=%.4f backward_s=%.4f optimizer_s=%.4f step_s=%.4f "
                            + "samples_per_s=%.4f forward_gflops=%.1f backward_gflops=%.1f optimizer_gflops=%.2f "
                            + "forward_flop=%.6g backward_flop=%.6g optimizer_flop=%.6g "
                            + "loss_first=%.9g loss_last=%.9g peak_rss_bytes=%d build_s=%.2f precision=%s gemm=%s cpu_step_s=%.4f samples_per_cpu_s=%.4f",
                    o.batch(), o.imageTokens(), o.textTokens(), threads, o.loraRank() == 0 ? "full" : "lora" + o.loraRank(),
                    o.recompute(), parameters, trained, forwardSeconds.length, forward(), backward(), optimizer(), step(),
                    samplesPerSecond(), forwardGflops(), backwardGflops(), optimizerGflops(), flops.forward(), flops.backward(),
                    flops.optimizer(), losses[0], losses[losses.length - 1],
                    peakRssBytes, buildSeconds, o.precision().configName(), compute.startsWith("bf16") ? "onednn-bf16" : "java-fp32",
                    cpuStep(), samplesPerCpuSecond());
        }
    }

    /** Runs the benchmark quietly. */
    public static Result run(Options o) {
        return run(o, null);
    }

    /** Runs the benchmark, reporting each step to {@code progress} (null: quiet). */
    public static Result run(Options o, Consumer<String> progress) {
        Consumer<String> log = progress == null ? s -> {} : progress;
        TransformerConfig cfg = TransformerConfig.read(CheckpointFolder.detect(o.checkpoint()));
        Map<String, int[]> targets = o.loraRank() == 0 ? Map.of() : attentionTargets(cfg);
        Adapters adapters = o.loraRank() == 0 ? Adapters.NONE
                : new LoraAdapters(o.loraRank(), o.loraAlpha(), peftInit(targets, o.loraRank(), o.seed()));
        ComputeWeights compute = ComputeWeights.of(o.precision(), log);
        long t0 = System.nanoTime();
        // closing the model unmaps the checkpoint its frozen weights are read from (LoRA)
        try (TrainableTransformer model = TrainableTransformer.load(o.checkpoint(), o.loraRank() == 0, adapters, true, compute)) {
            return measure(o, cfg, model, targets.keySet(), (System.nanoTime() - t0) / 1e9, log);
        }
    }

    private static Result measure(Options o, TransformerConfig cfg, TrainableTransformer model, Set<String> loraModules,
                                  double build, Consumer<String> log) {
        long parameters = model.parameters().numel(false), trained = model.parameters().numel(true);
        log.accept(String.format(Locale.ROOT, "model built in %.1f s: %d parameters, %d trained; %d threads; linear products %s", build,
                parameters, trained, Parallel.threads(), model.computeWeights().describe()));

        Batch batch = Batch.random(cfg, o.batch(), o.imageTokens(), o.textTokens(), o.seed());
        if (o.batchFile() != null) batch.write(o.batchFile());
        TransformerBatch input = batch.input();
        float[] target = FlowMatching.target(batch.x0, batch.noise);
        AdamW adamw = new AdamW(model.parameters(), new AdamW.Hyperparameters(o.lr(), 0.9, 0.999, 1e-8, o.weightDecay()));
        StepFlops flops = StepFlops.of(cfg, o.batch(), o.imageTokens(), o.textTokens(), o.loraRank() == 0, loraModules,
                o.loraRank(), trained);

        int total = o.warmup() + o.steps();
        double[] fwd = new double[o.steps()], bwd = new double[o.steps()], opt = new double[o.steps()], losses = new double[total];
        double[] cpu = new double[o.steps()];
        for (int s = 0; s < total; s++) {
            long cpu0 = ProcessMemory.cpuNanos();
            long a = System.nanoTime();
            TransformerPass pass = model.forward(input, o.recompute());
            losses[s] = FlowMatching.loss(pass.prediction(), target);
            long b = System.nanoTime();
            model.backward(pass, FlowMatching.lossGradient(pass.prediction(), target));
            long c = System.nanoTime();
            GradClip.clip(model.parameters().trainable(), o.maxGradNorm());
            adamw.step();
            model.computeWeights().refresh(); // the bf16 copies of the new masters, once per step
            model.parameters().zeroGrad();
            long d = System.nanoTime();
            boolean timed = s >= o.warmup();
            if (timed) {
                fwd[s - o.warmup()] = (b - a) / 1e9;
                bwd[s - o.warmup()] = (c - b) / 1e9;
                opt[s - o.warmup()] = (d - c) / 1e9;
                cpu[s - o.warmup()] = (ProcessMemory.cpuNanos() - cpu0) / 1e9;
            }
            log.accept(String.format(Locale.ROOT, "step %d/%d%s: forward %.3f s, backward %.3f s, clip+adamw %.3f s, loss %.9g, rss %.2f GiB",
                    s + 1, total, timed ? "" : " (warm-up)", (b - a) / 1e9, (c - b) / 1e9, (d - c) / 1e9, losses[s],
                    ProcessMemory.residentBytes() / (double) (1L << 30)));
        }
        return new Result(o, model.computeWeights().describe(), Parallel.threads(), parameters, trained, build, flops, fwd, bwd, opt, losses,
                ProcessMemory.peakResidentBytes(), cpu);
    }

    /**
     * The attention projections of every block, with their (in, out) sizes: in double blocks
     * attn.to_q/to_k/to_v/to_out.0 and attn.add_q_proj/add_k_proj/add_v_proj/to_add_out; in single blocks
     * attn.to_q/to_k/to_v, proj_mlp (which also feeds the MLP) and proj_out (attention and MLP output).
     */
    public static Map<String, int[]> attentionTargets(TransformerConfig cfg) {
        int d = cfg.innerDim(), f = cfg.mlpHidden();
        Map<String, int[]> m = new LinkedHashMap<>();
        for (int i = 0; i < cfg.numLayers(); i++)
            for (String s : new String[] {"to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out"})
                m.put("transformer_blocks." + i + ".attn." + s, new int[] {d, d});
        for (int i = 0; i < cfg.numSingleLayers(); i++) {
            String p = "single_transformer_blocks." + i + ".";
            for (String s : new String[] {"to_q", "to_k", "to_v"}) m.put(p + "attn." + s, new int[] {d, d});
            m.put(p + "proj_mlp", new int[] {d, 2 * f});
            m.put(p + "proj_out", new int[] {d + f, d});
        }
        return m;
    }

    /** peft's initialisation: A ~ U(±1/√in) (kaiming_uniform_ with a = √5), B = 0, so training starts at the base model. */
    static Map<String, LoraAdapters.Weights> peftInit(Map<String, int[]> targets, int rank, long seed) {
        Random r = new Random(seed ^ 0x10AL);
        Map<String, LoraAdapters.Weights> m = new LinkedHashMap<>();
        targets.forEach((module, io) -> {
            float[] a = new float[rank * io[0]];
            float bound = (float) (1 / Math.sqrt(io[0]));
            for (int i = 0; i < a.length; i++) a[i] = (r.nextFloat() * 2 - 1) * bound;
            m.put(module, new LoraAdapters.Weights(a, new float[io[1] * rank]));
        });
        return m;
    }

    /** One fixed batch: x0, ε and text states standard normal, σ_b = (b + 0.5)/B, ids over a near-square grid. */
    record Batch(int samples, int imageTokens, int textTokens, int gridH, int gridW, float[] x0, float[] noise, float[] text,
                 float[] sigmas, float[] txtIds, float[] imgIds, int inChannels, int textWidth) {
        static Batch random(TransformerConfig cfg, int b, int img, int txt, long seed) {
            Random r = new Random(seed);
            float[] x0 = gaussian(r, b * img * cfg.inChannels()), noise = gaussian(r, x0.length);
            float[] text = gaussian(r, b * txt * cfg.jointAttentionDim());
            float[] sigmas = new float[b];
            for (int i = 0; i < b; i++) sigmas[i] = (i + 0.5f) / b;
            int gw = (int) Math.round(Math.sqrt(img));
            while (img % gw != 0) gw--;
            int gh = img / gw;
            float[] ids = PositionEmbedding.ids(txt, gh, gw);
            return new Batch(b, img, txt, gh, gw, x0, noise, text, sigmas, Arrays.copyOf(ids, txt * 3),
                    Arrays.copyOfRange(ids, txt * 3, ids.length), cfg.inChannels(), cfg.jointAttentionDim());
        }

        private static float[] gaussian(Random r, int n) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
            return v;
        }

        TransformerBatch input() {
            return new TransformerBatch(samples, imageTokens, textTokens, FlowMatching.interpolate(x0, noise, sigmas), text, sigmas,
                    txtIds, imgIds);
        }

        /** The batch under the goldens' key names (F32), atomically. */
        void write(Path file) {
            new SafetensorsWriter()
                    .addFloats("x0", DType.F32, new long[] {samples, imageTokens, inChannels}, x0)
                    .addFloats("noise", DType.F32, new long[] {samples, imageTokens, inChannels}, noise)
                    .addFloats("prompt_embeds", DType.F32, new long[] {samples, textTokens, textWidth}, text)
                    .addFloats("sigma", DType.F32, new long[] {samples}, sigmas)
                    .addFloats("txt_ids", DType.F32, new long[] {textTokens, 3}, txtIds)
                    .addFloats("img_ids", DType.F32, new long[] {imageTokens, 3}, imgIds)
                    .metadata("generator", "ovis4j TrainingThroughput")
                    .write(file);
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * {@code --model DIR [--batch 2] [--image-tokens 256] [--text-tokens 64] [--warmup 1] [--steps 3] [--recompute]
     * [--lora-rank R --lora-alpha A] [--seed 1] [--lr 1e-4] [--weight-decay 0.01] [--max-grad-norm 1] [--write-batch FILE]
     * [--precision fp32|bf16]};
     * thread count from {@code -Dovis4j.threads} or {@code OVIS4J_THREADS}. Progress on stderr, the summary on stdout.
     */
    public static void main(String[] args) {
        try {
            Result r = run(parse(args), s -> System.err.println("train-bench: " + s));
            System.out.println(r.summary());
        } catch (OvisException e) {
            System.err.println("train-bench: " + e.getMessage());
            System.exit(2);
        } catch (OutOfMemoryError e) {
            System.err.println("train-bench: out of Java heap (" + Runtime.getRuntime().maxMemory() / (1 << 20)
                    + " MiB): give it more with -Xmx (OVIS4J_HEAP for the script)");
            System.exit(3);
        }
    }

    static Options parse(String[] args) {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String k = args[i];
            if (!k.startsWith("--")) throw new OvisException("unexpected argument " + k);
            if (k.equals("--recompute")) {
                a.put(k, "true");
                continue;
            }
            if (i + 1 >= args.length) throw new OvisException(k + " needs a value");
            a.put(k, args[++i]);
        }
        for (String k : a.keySet())
            if (!java.util.Set.of("--model", "--batch", "--image-tokens", "--text-tokens", "--warmup", "--steps", "--recompute",
                    "--lora-rank", "--lora-alpha", "--seed", "--lr", "--weight-decay", "--max-grad-norm", "--write-batch", "--precision").contains(k))
                throw new OvisException("unknown option " + k);
        if (!a.containsKey("--model")) throw new OvisException("--model DIR is required");
        Options d = Options.defaults(Path.of(a.get("--model")));
        int rank = integer(a, "--lora-rank", 0);
        return new Options(d.checkpoint(), integer(a, "--batch", d.batch()), integer(a, "--image-tokens", d.imageTokens()),
                integer(a, "--text-tokens", d.textTokens()), integer(a, "--warmup", d.warmup()), integer(a, "--steps", d.steps()),
                a.containsKey("--recompute"), rank, number(a, "--lora-alpha", rank), integer(a, "--seed", (int) d.seed()),
                number(a, "--lr", d.lr()), number(a, "--weight-decay", d.weightDecay()), number(a, "--max-grad-norm", d.maxGradNorm()),
                a.containsKey("--write-batch") ? Path.of(a.get("--write-batch")) : null,
                ComputePrecision.parse(a.getOrDefault("--precision", "fp32")));
    }

    private static int integer(Map<String, String> a, String key, int dflt) {
        String v = a.get(key);
        if (v == null) return dflt;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new OvisException(key + ": not an integer: " + v);
        }
    }

    private static double number(Map<String, String> a, String key, double dflt) {
        String v = a.get(key);
        if (v == null) return dflt;
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new OvisException(key + ": not a number: " + v);
        }
    }
}
