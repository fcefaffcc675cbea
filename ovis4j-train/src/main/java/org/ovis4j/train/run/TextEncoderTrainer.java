package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.text.OvisTextEncoder;
import org.ovis4j.tokenizer.Qwen3Tokenizer;
import org.ovis4j.train.data.CachedDataset;
import org.ovis4j.train.loss.CausalLmLoss;
import org.ovis4j.train.optim.AdamW;
import org.ovis4j.train.optim.GradClip;
import org.ovis4j.train.optim.LearningRateSchedule;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.text.CaptionCorpus;
import org.ovis4j.train.text.TextBatch;
import org.ovis4j.train.text.TrainableQwen3;

/**
 * Pretraining of the text encoder as a causal language model on captions ({@link TextEncoderConfig}):
 *
 * <pre>
 *   batch of captions (Ovis template, right-padded) → TrainableQwen3 forward → next-token cross-entropy
 *   through the tied head over rows 28.. → backward → clip the global norm → AdamW at the schedule's rate
 * </pre>
 *
 * It shares the transformer run's machinery ({@link RunFolder}'s checkpoint protocol and resume checks,
 * {@link TrainState}, {@link LossLog}, the loss plot, {@link Trainer.Listener}). A checkpoint holds
 * {@code text_encoder/} (config.json and model.safetensors, float32, the names the pipeline's loader
 * reads: the folder drops into a diffusers checkpoint unmodified), the optimizer's moments, the loss
 * curve and state.json (step, the data order's (epoch, cursor), the config's fingerprint). The data
 * order is a function of the seed and the epoch, so a resumed run continues as the uninterrupted one.
 */
public final class TextEncoderTrainer {
    static final String TEXT_ENCODER = "text_encoder", WEIGHTS = "model.safetensors";

    private final TextEncoderConfig cfg;
    private final RunFolder folder;
    private final Trainer.Listener listener;
    private final CaptionCorpus corpus;
    private final CausalLmLoss.Vocabulary vocabulary;
    private final TrainableQwen3 model;
    private final AdamW optimizer;
    private final LearningRateSchedule schedule;
    private final LossLog log;
    private CaptionCorpus.Position position;
    private long step;
    private Path lastCheckpoint;

    private TextEncoderTrainer(TextEncoderConfig cfg, boolean resume, Trainer.Listener listener) {
        this.cfg = cfg;
        this.listener = listener;
        this.folder = new RunFolder(cfg.output(), RunFolder.Faults.NONE);
        Path latest = folder.latest();
        TrainState state = folder.resumeState(resume, cfg.file(), cfg.fingerprint(), cfg.fingerprintHash());

        Path tokJson = cfg.tokenizer().resolve("tokenizer.json");
        if (!Files.isRegularFile(tokJson)) throw new OvisException(cfg.tokenizer() + ": no tokenizer.json");
        Qwen3Tokenizer tok = Qwen3Tokenizer.load(tokJson);
        if (tok.vocabSize() > cfg.textEncoder().vocabSize())
            throw new OvisException(cfg.file() + ": text_encoder vocab_size " + cfg.textEncoder().vocabSize() + " is smaller than the tokenizer's "
                    + tok.vocabSize() + " ids (" + tokJson + ")");
        List<String> captions = cfg.shards() != null ? CaptionCorpus.shardCaptions(cfg.shards()) : CaptionCorpus.fileCaptions(cfg.captions());
        this.corpus = CaptionCorpus.tokenize(captions, tok, cfg.maxSequenceLength());
        if (state != null && state.cacheRecords() != corpus.size())
            throw new OvisException((cfg.shards() != null ? cfg.shards() : cfg.captions()) + ": holds " + corpus.size()
                    + " captions, the run being resumed trained on " + state.cacheRecords());
        int vocab = cfg.textEncoder().vocabSize();
        this.vocabulary = cfg.corpusSoftmax() ? CausalLmLoss.Vocabulary.of(vocab, corpus.ids()) : CausalLmLoss.Vocabulary.all(vocab);
        listener.onMessage(corpus.size() + " captions, softmax over " + vocabulary.classes() + " of " + vocab + " ids");

        folder.create();
        folder.removeUnfinished();
        this.model = latest != null && state != null
                ? TrainableQwen3.load(cfg.textEncoder(), latest.resolve(TEXT_ENCODER).resolve(WEIGHTS))
                : TrainableQwen3.initialised(cfg.textEncoder(), cfg.initStd(), cfg.initSeed());
        this.optimizer = new AdamW(model.parameters(), cfg.optimizer());
        if (state != null) {
            optimizer.read(latest.resolve(RunLoop.OPTIMIZER));
            if (optimizer.steps() != state.step())
                throw new OvisException(latest.resolve(RunLoop.OPTIMIZER) + ": holds " + optimizer.steps() + " steps, " + TrainState.FILE + " " + state.step());
        }
        this.schedule = LearningRateSchedule.named(cfg.schedule().name(), cfg.schedule().warmupSteps(), cfg.steps());
        this.log = state == null ? new LossLog() : LossLog.read(latest.resolve(LossLog.FILE), state.step());
        this.step = state == null ? 0 : state.step();
        CachedDataset.Position saved = state == null ? null : CachedDataset.Position.fromJson(latest.resolve(TrainState.FILE) + ": data", state.data());
        this.position = saved == null ? new CaptionCorpus.Position(0, 0) : new CaptionCorpus.Position(saved.epoch(), saved.cursor());
        this.lastCheckpoint = latest;
        if (state != null) listener.onMessage("resumed from " + latest + " (step " + step + " of " + cfg.steps() + ")");
    }

    /** Prepares a run: checks the output folder (fresh, or resumed from its latest checkpoint), tokenises the captions. */
    public static TextEncoderTrainer open(TextEncoderConfig cfg, boolean resume, Trainer.Listener listener) {
        return new TextEncoderTrainer(cfg, resume, listener);
    }

    public TrainableQwen3 model() { return model; }

    public long step() { return step; }

    List<LossLog.Row> losses() { return log.rows(); }

    /** Trains until the config's step count, writing checkpoints on the way. */
    public void train() {
        if (step >= cfg.steps()) {
            listener.onMessage("the run is complete (step " + step + " of " + cfg.steps() + ")");
            return;
        }
        long timedNanos = 0, timedSteps = 0;
        while (step < cfg.steps()) {
            long t0 = System.nanoTime();
            LossLog.Row r = trainStep();
            timedNanos += System.nanoTime() - t0;
            timedSteps++;
            double perStep = timedNanos / 1e9 / timedSteps;
            listener.onStep(new Trainer.Progress(step, cfg.steps(), r.loss(), r.lr(), r.gradNorm(), cfg.batchSize() / perStep,
                    perStep * (cfg.steps() - step)));
            if (step % cfg.checkpointEvery() == 0 || step == cfg.steps()) checkpoint();
        }
    }

    private LossLog.Row trainStep() {
        long s = step + 1;
        int[] indices = new int[cfg.batchSize()];
        CaptionCorpus.Position next = corpus.next(cfg.seed(), position, indices);
        TextBatch batch = corpus.batch(indices);
        TrainableQwen3.Pass pass = model.forward(batch);
        Parameter e = model.embedding();
        CausalLmLoss.Result loss = CausalLmLoss.compute(pass.output(), batch.rows(), cfg.textEncoder().hiddenSize(),
                batch.nextTokenTargets(OvisTextEncoder.PROMPT_START_ROW), e.value(), e.grad(), vocabulary);
        if (!Double.isFinite(loss.loss())) throw stopped(s, "the loss is " + loss.loss());
        model.backward(pass, loss.dHidden());
        List<Parameter> trainable = model.parameters().trainable();
        float norm = cfg.maxGradNorm() > 0 ? GradClip.clip(trainable, cfg.maxGradNorm()).totalNorm() : GradClip.totalNorm(trainable);
        if (!Float.isFinite(norm)) throw stopped(s, "the gradient norm is " + norm);
        double lr = schedule.rate(cfg.optimizer().lr(), s - 1);
        optimizer.step(lr);
        model.parameters().zeroGrad();
        step = s;
        position = next;
        LossLog.Row row = new LossLog.Row(s, loss.loss(), lr, norm);
        log.add(row);
        return row;
    }

    private OvisException stopped(long s, String what) {
        return new OvisException("step " + s + ": " + what + "; training stopped, "
                + (lastCheckpoint == null ? "no checkpoint was written yet" : "the last good checkpoint is " + lastCheckpoint));
    }

    private void checkpoint() {
        Path dir = folder.checkpoint(step, cfg.keepLast(), log, this::writeCheckpoint);
        lastCheckpoint = dir;
        listener.onCheckpoint(step, dir);
    }

    private void writeCheckpoint(Path dir) throws IOException {
        Path te = dir.resolve(TEXT_ENCODER);
        Files.createDirectories(te);
        writeTextEncoder(folder, te, cfg.textEncoderJson(), model);
        folder.beforeWrite(dir.resolve(RunLoop.OPTIMIZER));
        optimizer.write(dir.resolve(RunLoop.OPTIMIZER));
        folder.writeAtomically(dir.resolve(LossLog.FILE), log.csv());
        new TrainState(step, cfg.steps(), cfg.seed(), cfg.fingerprint(), cfg.fingerprintHash(),
                new CachedDataset.Position(cfg.seed(), position.epoch(), position.cursor()).toJson(), corpus.size(),
                log.rows().getLast().loss()).write(folder, dir);
    }

    /** A diffusers text_encoder/ folder: the config as given and the weights in float32 under the loader's names. */
    static void writeTextEncoder(RunFolder folder, Path dir, Map<String, Object> config, TrainableQwen3 model) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>(config);
        json.putIfAbsent("architectures", List.of("Qwen3Model"));
        json.putIfAbsent("model_type", "qwen3");
        json.put("torch_dtype", "float32");
        folder.writeAtomically(dir.resolve("config.json"), Json.write(json, 2) + "\n");
        folder.beforeWrite(dir.resolve(WEIGHTS));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("generator", "ovis4j train text-encoder");
        model.parameters().write(dir.resolve(WEIGHTS), DType.F32, meta);
    }
}
