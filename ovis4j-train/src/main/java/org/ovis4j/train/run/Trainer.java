package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.eval.OcrEngine;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.schedule.FlowMatchEulerScheduler;
import org.ovis4j.train.data.CacheBuilder;
import org.ovis4j.train.data.CachedDataset;
import org.ovis4j.train.data.Preprocessing;
import org.ovis4j.train.data.ShardSet;
import org.ovis4j.train.dit.Adapters;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.dit.TransformerBatch;
import org.ovis4j.train.dit.TransformerInit;
import org.ovis4j.train.dit.TransformerPass;
import org.ovis4j.train.lora.LoraAdapters;
import org.ovis4j.lora.LoraFile;
import org.ovis4j.train.lora.LoraTargets;
import org.ovis4j.train.loss.FlowMatching;
import org.ovis4j.train.optim.AdamW;
import org.ovis4j.train.optim.ComputePrecision;
import org.ovis4j.train.optim.ComputeWeights;
import org.ovis4j.train.optim.EmaWeights;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.sampling.PromptDropout;
import org.ovis4j.train.sampling.RunSeeds;
import org.ovis4j.train.sampling.SigmaSampler;

/**
 * A flow-matching training run of the Ovis-Image transformer (spec 9.1), from a {@link TrainConfig}:
 * full fine-tuning, LoRA on a frozen base, or a new transformer from seeded initial values. One step:
 *
 * <pre>
 *   batch (x0, prompt embeddings) from the latent cache → prompt dropout (empty prompt with probability p)
 *   σ per sample (logit-normal), ε ~ N(0, 1) → x_σ = (1 − σ)·x0 + σ·ε, target ε − x0
 *   forward → loss = mean (v − target)² → backward → clip the global norm → AdamW at the schedule's rate → EMA
 * </pre>
 *
 * Every random draw is a function of (seed, step) or of the data position, and the checkpoint holds the
 * weights, both optimizer moments and its step, the EMA shadows, the data position and the loss curve,
 * so a run resumed from a checkpoint continues exactly as the uninterrupted run would have, bit for bit.
 * A non-finite loss or gradient stops the run with a one-line error naming the step; no checkpoint is
 * written after it, so the last one holds the last good weights. The loop, the optimizer, the EMA and the
 * checkpoints are {@link RunLoop}'s (shared with the VAE's {@link VaeTrainer}); this class is the
 * transformer's part: the latent cache, the model, the flow-matching step and the sample images.
 */
public final class Trainer implements AutoCloseable {
    /** What a run reports; called on the training thread. */
    public interface Listener {
        /** A stage starts or something happened (cache build, resume). */
        default void onMessage(String message) {}

        default void onStep(Progress p) {}

        default void onCheckpoint(long step, Path dir) {}

        default void onSamples(long step, List<Path> images) {}

        default void onWarning(String message) {}

        Listener NONE = new Listener() {};
    }

    /**
     * After a step: its loss, the rate it ran at, the gradient norm before clipping, and the speed so far
     * (samples per second and the remaining time, over the steps of this process, checkpoints excluded).
     */
    public record Progress(long step, long steps, double loss, double lr, float gradNorm, double samplesPerSecond, double etaSeconds) {}

    private final TrainConfig cfg;
    private final RunLoop loop;
    private final Listener listener;
    private final CheckpointFolder base;
    private final TrainableTransformer model;
    private final CachedDataset data;
    private final SigmaSampler sigmas;
    private final PromptDropout dropout;
    private final SampleRenderer samples;
    private final LearningCurve curve;
    private final float[] emptyPrompt, txtIds, imgIds;
    private final int tokens, textRows;
    private TransformerPass pass;
    private float[] target;

    private Trainer(TrainConfig cfg, boolean resume, Listener listener, RunFolder.Faults faults, Supplier<OcrEngine> ocr) {
        this.cfg = cfg;
        this.listener = listener;
        this.loop = new RunLoop(cfg.run(), cfg.fingerprint(), cfg.fingerprintHash(), resume, listener, faults);
        Path latest = loop.resumeFrom();
        this.base = CheckpointFolder.detect(cfg.model());
        TransformerConfig dit = cfg.fromScratch() != null ? cfg.fromScratch().transformer() : TransformerConfig.read(base);

        Path cache = buildCache();
        CachedDataset.Options options = new CachedDataset.Options(cfg.batchSize(), cfg.seed(), cfg.data().posterior());
        this.data = latest == null ? CachedDataset.open(cache, options)
                : CachedDataset.open(cache, options, CachedDataset.Position.fromJson(latest.resolve(TrainState.FILE) + ": data", loop.resumedData()));
        try {
            if (latest != null && loop.resumedRecords() != data.size())
                throw new OvisException(cache + ": holds " + data.size() + " samples, the run being resumed trained on " + loop.resumedRecords());
            if (data.tokenWidth() != dit.inChannels() || data.manifest().textWidth() != dit.jointAttentionDim())
                throw new OvisException(cache + ": latent tokens of " + data.tokenWidth() + " values and text states of width "
                        + data.manifest().textWidth() + " do not fit the transformer (in_channels " + dit.inChannels()
                        + ", joint_attention_dim " + dit.jointAttentionDim() + ")");
            int trainWidth = 8 * data.manifest().latentWidth(), trainHeight = 8 * data.manifest().latentHeight();
            int trainMsl = data.manifest().maxSequenceLength();
            this.samples = cfg.samples() == null ? null : SampleRenderer.samples(cfg.samples(), base, dit, cfg.lora() == null,
                    trainWidth, trainHeight, trainMsl, loop.root());
            this.curve = cfg.eval() == null ? null : LearningCurve.open(cfg.eval(), loop.folder(), latest == null ? 0 : loop.resumedStep(), ocr,
                    prompts -> new SampleRenderer(prompts, cfg.eval().drawing(), "eval", base, dit, cfg.lora() == null, trainWidth, trainHeight,
                            trainMsl, loop.root().resolve("eval")));
            this.model = buildModel(dit, latest);
            FlowMatchEulerScheduler sched = base.schedulerConfig() != null ? FlowMatchEulerScheduler.fromConfig(base.schedulerConfig())
                    : FlowMatchEulerScheduler.defaults();
            this.sigmas = new SigmaSampler(cfg.sigma().density(), cfg.sigma().mean(), cfg.sigma().std(), sched, cfg.seed());
            this.dropout = new PromptDropout(cfg.promptDropout(), cfg.seed());
            this.tokens = data.tokens();
            this.textRows = data.manifest().maxSequenceLength();
            float[] ids = data.positionIds();
            this.txtIds = Arrays.copyOf(ids, textRows * 3);
            this.imgIds = Arrays.copyOfRange(ids, textRows * 3, ids.length);
            this.emptyPrompt = data.emptyPromptEmbeds();
            loop.attach(new Task());
        } catch (RuntimeException e) {
            data.close();
            throw e;
        }
    }

    static final String LORA = "lora.safetensors";

    /** Prepares a run: checks the output folder (fresh, or resumed from its latest checkpoint), builds the cache, loads the model. */
    public static Trainer open(TrainConfig cfg, boolean resume, Listener listener) {
        return new Trainer(cfg, resume, listener, RunFolder.Faults.NONE, null);
    }

    /** As {@link #open(TrainConfig, boolean, Listener)}, with a fault seam around every checkpoint file (tests). */
    static Trainer open(TrainConfig cfg, boolean resume, Listener listener, RunFolder.Faults faults) {
        return new Trainer(cfg, resume, listener, faults, null);
    }

    /** As {@link #open(TrainConfig, boolean, Listener)}, with the learning curve read by this OCR engine (tests). */
    static Trainer open(TrainConfig cfg, boolean resume, Listener listener, Supplier<OcrEngine> ocr) {
        return new Trainer(cfg, resume, listener, RunFolder.Faults.NONE, ocr);
    }

    /** The latent cache: built once from the shards (complete shard caches are kept), or the given one. */
    private Path buildCache() {
        TrainConfig.Data d = cfg.data();
        if (d.shards() == null) return d.cache();
        ShardSet set = ShardSet.open(d.shards());
        listener.onMessage("latent cache " + d.cache() + " (" + set.size() + " shards)");
        try (OvisImage encoders = OvisImage.load(cfg.model(), d.encoderPrecision())) {
            Preprocessing prep = new Preprocessing(d.width(), d.height(), d.resize(), d.crop(), cfg.seed());
            CacheBuilder.Summary s = new CacheBuilder(encoders, prep, d.maxSequenceLength()).build(set, d.cache(), new CacheBuilder.Listener() {
                @Override public void onShard(int index, int count, Path file, boolean skipped) {
                    if (!skipped) listener.onMessage("encoding shard " + (index + 1) + " of " + count + " into " + file.getFileName());
                }

                @Override public void onWarning(String message) {
                    listener.onWarning(message);
                }
            });
            listener.onMessage("latent cache: " + s.records() + " samples (" + s.built() + " shards encoded, " + s.skipped() + " already cached)");
        }
        return d.cache();
    }

    /**
     * The transformer in the config's compute precision (bf16: falling back to fp32, said once through
     * the listener, where oneDNN's bf16 matmul cannot run), its bf16 copies made from the values it trains from.
     */
    private TrainableTransformer buildModel(TransformerConfig dit, Path latest) {
        ComputeWeights compute = ComputeWeights.of(cfg.computePrecision(), listener::onWarning);
        TrainableTransformer m = buildModel(dit, latest, compute);
        if (compute.precision() == ComputePrecision.BF16)
            listener.onMessage("linear products in " + compute.describe() + ", float32 masters");
        m.computeWeights().refresh(); // from scratch, the values are set after the model was built
        return m;
    }

    private TrainableTransformer buildModel(TransformerConfig dit, Path latest, ComputeWeights compute) {
        TrainConfig.Lora lora = cfg.lora();
        if (latest != null) {
            if (lora == null) return TrainableTransformer.load(latest, true, Adapters.NONE, true, compute); // full or from scratch: the checkpoint's transformer
            Map<String, LoraAdapters.Weights> adapters = new LinkedHashMap<>();
            for (LoraFile.Adapter a : LoraFile.read(latest.resolve(LORA))) {
                if (a.rank() != lora.rank()) throw new OvisException(latest.resolve(LORA) + ": " + a.module() + " has rank " + a.rank()
                        + ", the config " + lora.rank());
                adapters.put(a.module(), new LoraAdapters.Weights(a.a(), a.b()));
            }
            // rank and alpha from the config, so the scale is computed as in the uninterrupted run
            return TrainableTransformer.load(cfg.model(), false, new LoraAdapters(lora.rank(), lora.alpha(), adapters), true, compute);
        }
        if (cfg.fromScratch() != null) {
            TrainableTransformer m = new TrainableTransformer(dit, TrainableTransformer.Source.ZEROS, true, Adapters.NONE, compute);
            TransformerInit.apply(m.parameters(), cfg.fromScratch().init(), cfg.fromScratch().seed());
            return m;
        }
        if (lora == null) return TrainableTransformer.load(cfg.model(), true, Adapters.NONE, true, compute);
        return TrainableTransformer.load(cfg.model(), false, new LoraTargets(lora.rank(), lora.alpha(), lora.targetModules(), lora.seed()),
                true, compute);
    }

    public TrainableTransformer model() { return model; }
    public AdamW optimizer() { return loop.optimizer(); }
    /** The EMA of the weights, or null without "ema". */
    public EmaWeights ema() { return loop.ema(); }
    /** Optimizer steps completed. */
    public long step() { return loop.step(); }
    List<LossLog.Row> losses() { return loop.losses(); }
    Path root() { return loop.root(); }

    /** Trains until the config's step count, writing checkpoints and samples on the way. */
    public void train() {
        loop.train();
    }

    /** Flow matching on the latent cache, as {@link RunLoop} steps it. */
    private final class Task implements TrainingTask {
        @Override public org.ovis4j.train.param.Parameters parameters() { return model.parameters(); }

        @Override public double forward(long s) {
            int b = cfg.batchSize(), width = data.tokenWidth(), textWidth = data.manifest().textWidth();
            CachedDataset.Batch batch = data.next();
            float[] text = batch.promptEmbeds();
            boolean[] drop = dropout.drops(s, b);
            for (int k = 0; k < b; k++)
                if (drop[k]) System.arraycopy(emptyPrompt, 0, text, k * textRows * textWidth, textRows * textWidth);
            float[] sigma = sigmas.sample(s, b, tokens);
            float[] noise = GaussianNoise.sample(RunSeeds.derive(cfg.seed(), RunSeeds.NOISE, s), b * tokens * width);
            float[] xt = FlowMatching.interpolate(batch.x0(), noise, sigma);
            target = FlowMatching.target(batch.x0(), noise);
            pass = model.forward(new TransformerBatch(b, tokens, textRows, xt, text, sigma, txtIds, imgIds), cfg.gradientCheckpointing());
            return FlowMatching.loss(pass.prediction(), target);
        }

        @Override public void backward() {
            model.backward(pass, FlowMatching.lossGradient(pass.prediction(), target));
            pass = null;
            target = null;
        }

        @Override public void afterUpdate() {
            model.computeWeights().refresh(); // bf16: the copies of the new masters, once per step (fp32: nothing)
        }

        @Override public void writeModel(RunFolder folder, Path dir) throws IOException {
            if (cfg.lora() == null) {
                List<TransformerFolder.Values> weights = new ArrayList<>();
                for (Parameter p : model.parameters()) weights.add(new TransformerFolder.Values(p.name(), p.shape(), p.value()));
                TransformerFolder.writeTransformer(folder, dir, model.config(), weights);
                if (TransformerFolder.canComplete(base)) TransformerFolder.linkComponents(base, dir);
            } else {
                folder.beforeWrite(dir.resolve(LORA));
                LoraFile.write(dir.resolve(LORA), loraAdapters(false));
            }
        }

        @Override public Map<String, Object> dataPosition() { return data.position().toJson(); }

        @Override public long dataRecords() { return data.size(); }

        @Override public void afterStep(long s, boolean last) {
            if (samples != null && (s % cfg.samples().every() == 0 || last)) listener.onSamples(s, draw(samples));
            if (curve != null && (s % curve.every() == 0 || last)) {
                LearningCurve.Row row = curve.measure(s, s * cfg.batchSize(), loop.trainSeconds(), Trainer.this::draw);
                listener.onMessage(String.format(java.util.Locale.ROOT, "step %d: OCR word accuracy %.4f, NED %.4f over %d evaluation prompts (%s)",
                        s, row.wordAccuracy(), row.ned(), row.images(), loop.root().resolve("eval").resolve(RunFolder.name(s))));
            }
        }
    }

    /** The trained adapters (or their EMA), in the diffusers LoRA file's terms. */
    private List<LoraFile.Adapter> loraAdapters(boolean averaged) {
        List<LoraFile.Adapter> out = new ArrayList<>();
        String suffix = ".lora_A.weight";
        for (Parameter a : model.parameters()) {
            if (!a.name().endsWith(suffix)) continue;
            String module = a.name().substring(0, a.name().length() - suffix.length());
            Parameter b = model.parameters().get(module + ".lora_B.weight");
            long[] as = a.shape(), bs = b.shape();
            out.add(LoraFile.Adapter.of(module, values(a, averaged), values(b, averaged), (int) as[1], (int) bs[0], (int) as[0],
                    (float) cfg.lora().alpha()));
        }
        return out;
    }

    private float[] values(Parameter p, boolean averaged) {
        return averaged ? loop.handedOut(p) : p.value();
    }

    /**
     * Images (samples or the learning curve's) from the weights the run would hand out: the EMA when there
     * is one, else the trained values; for LoRA the adapters (or their EMA) over the unchanged base.
     */
    private List<Path> draw(SampleRenderer renderer) {
        if (cfg.lora() == null) {
            List<TransformerFolder.Values> weights = new ArrayList<>();
            for (Parameter p : model.parameters()) weights.add(new TransformerFolder.Values(p.name(), p.shape(), values(p, true)));
            return renderer.render(loop.step(), weights);
        }
        List<org.ovis4j.lora.LoraAdapter> adapters = new ArrayList<>();
        float scale = (float) (cfg.lora().alpha() / cfg.lora().rank()); // as the training's LoraAdapters computes it
        for (LoraFile.Adapter a : loraAdapters(true))
            adapters.add(new org.ovis4j.lora.LoraAdapter(a.module(), a.rank(), a.a(), a.b(), scale));
        return renderer.renderLora(loop.step(), adapters);
    }

    @Override
    public void close() {
        data.close();
    }
}
