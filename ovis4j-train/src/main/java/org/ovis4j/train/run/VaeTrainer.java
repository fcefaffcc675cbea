package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.io.FileTrees;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.train.data.Preprocessing;
import org.ovis4j.train.data.SeededRandom;
import org.ovis4j.train.data.ShardRecord;
import org.ovis4j.train.data.ShardSet;
import org.ovis4j.train.data.ShardStream;
import org.ovis4j.train.data.StreamPosition;
import org.ovis4j.train.dit.TransformerInit;
import org.ovis4j.train.loss.VaeObjective;
import org.ovis4j.train.optim.AdamW;
import org.ovis4j.train.optim.EmaWeights;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;
import org.ovis4j.train.sampling.RunSeeds;
import org.ovis4j.train.vae.TrainableVae;
import org.ovis4j.train.vae.VaeActivations;
import org.ovis4j.vae.AutoencoderKL;

/**
 * A VAE training run ({@code ovis4j train vae --config FILE.json}, {@link VaeTrainConfig}): a new
 * AutoencoderKL from seeded initial values, trained on images streamed from tar shards through a seeded
 * shuffle buffer, with {@link VaeObjective}; the optimizer, EMA, NaN guard, loss curve, checkpoints and
 * exact resume are {@link RunLoop}'s, shared with the transformer's {@link Trainer}. One step's batch:
 *
 * <pre>
 *   B records from the stream → decode, crop (an offset seeded by the record's key and the epoch) → [−1, 1]
 *   ε ~ N(0, 1) seeded by (seed, step) → z = mean + std·ε → recon → loss → backward
 * </pre>
 *
 * Each checkpoint holds a diffusers {@code vae/} folder with the trained weights. When the run completes,
 * the latents' statistics are measured on the last checkpoint's weights ({@link LatentStatistics}) and
 * {@code output/vae/} is written with them as {@code shift_factor} and {@code scaling_factor}: the VAE the
 * run hands out (its EMA weights, when the config has an EMA).
 */
public final class VaeTrainer implements AutoCloseable {
    /** Purpose word of the per-epoch crop streams. */
    private static final long CROPS = 31;
    static final String VAE = "vae", VAE_EMA = "vae_ema";

    private final VaeTrainConfig cfg;
    private final RunLoop loop;
    private final Trainer.Listener listener;
    private final TrainableVae model;
    private final VaeObjective objective;
    private final ShardSet shards;
    private final long records;
    private final ShardStream stream;
    private final VaeActivations activations;
    private final float[] images;
    private int cropEpoch = -1;
    private Preprocessing crops;

    private VaeTrainer(VaeTrainConfig cfg, boolean resume, Trainer.Listener listener, RunFolder.Faults faults) {
        this.cfg = cfg;
        this.listener = listener;
        this.loop = new RunLoop(cfg.run(), cfg.fingerprint(), cfg.fingerprintHash(), resume, listener, faults);
        Path latest = loop.resumeFrom();
        this.shards = ShardSet.open(cfg.data().shards());
        long n = 0;
        for (ShardSet.Shard s : shards.shards()) n = n < 0 || s.records() < 0 ? -1 : n + s.records();
        this.records = n; // −1: shards without a manifest, whose record counts are not known before reading them
        if (latest != null && records >= 0 && loop.resumedRecords() != records)
            throw new OvisException(cfg.data().shards() + ": holds " + records + " records, the run being resumed trained on " + loop.resumedRecords());
        this.model = latest != null ? load(latest.resolve(VAE)) : fresh(cfg);
        this.objective = new VaeObjective(cfg.loss());
        VaeTrainConfig.Data d = cfg.data();
        ShardStream.Options options = new ShardStream.Options(cfg.run().seed(), d.shuffleBuffer(), true, true);
        this.stream = latest == null ? new ShardStream(shards, options, 0)
                : new ShardStream(shards, options, 0, StreamPosition.fromJson(latest.resolve(TrainState.FILE) + ": data", loop.resumedData()));
        try {
            this.activations = model.newActivations(cfg.run().batchSize(), d.height(), d.width());
            this.images = new float[cfg.run().batchSize() * 3 * d.height() * d.width()];
            loop.attach(new Task());
        } catch (RuntimeException e) {
            stream.close();
            throw e;
        }
        listener.onMessage("vae: " + model.parameters().numel(true) + " parameters, " + records + " records in " + shards.size()
                + " shards, " + d.width() + "x" + d.height() + " " + d.resize().id() + ", batch " + cfg.run().batchSize());
    }

    public static VaeTrainer open(VaeTrainConfig cfg, boolean resume, Trainer.Listener listener) {
        return new VaeTrainer(cfg, resume, listener, RunFolder.Faults.NONE);
    }

    static VaeTrainer open(VaeTrainConfig cfg, boolean resume, Trainer.Listener listener, RunFolder.Faults faults) {
        return new VaeTrainer(cfg, resume, listener, faults);
    }

    private static TrainableVae fresh(VaeTrainConfig cfg) {
        TrainableVae m = TrainableVae.of(cfg.vae(), (name, shape) -> {
            long k = 1;
            for (long s : shape) k *= s;
            return new float[Math.toIntExact(k)];
        });
        TransformerInit.apply(m.parameters(), cfg.init(), cfg.initSeed());
        if (cfg.logvarBias() != null) {
            // torch's init leaves logvar ≈ 0: the decoder then starts on latents drowned in unit noise
            // (z = mean + 1·ε) and the reconstruction gradient lowers the log-variance only slowly (after
            // 1000 pilot steps it was still ≈ 0 and the round trips were blurs); a small start keeps z ≈ mean.
            float[] bias = m.parameters().get("encoder.conv_out.bias").value();
            int l = cfg.vae().latentChannels();
            java.util.Arrays.fill(bias, l, 2 * l, cfg.logvarBias().floatValue());
        }
        return m;
    }

    /** The weights of a checkpoint's vae/ folder (float32 copies; the file is closed after). */
    private TrainableVae load(Path dir) {
        try (TensorStore store = TensorStore.openFolder(dir)) {
            return TrainableVae.of(cfg.vae(), AutoencoderKL.weights(cfg.vae(), store, null));
        }
    }

    public TrainableVae model() { return model; }
    public AdamW optimizer() { return loop.optimizer(); }
    public EmaWeights ema() { return loop.ema(); }
    public long step() { return loop.step(); }
    List<LossLog.Row> losses() { return loop.losses(); }
    Path root() { return loop.root(); }

    /** Trains until the config's step count; then measures the latents and writes {@code output/vae/}. */
    public void train() {
        loop.train();
        if (loop.step() >= cfg.run().steps()) export();
    }

    /** The VAE the run hands out: output/vae/ from the last checkpoint, with the latent statistics in its config. */
    private void export() {
        export(cfg, loop.folder(), loop.lastCheckpoint(), loop.ema() != null, listener);
    }

    /**
     * {@code train vae --export}: writes output/vae/ from a checkpoint of the run (its EMA weights when the
     * config has an EMA), with the latent statistics measured on it, without training; {@code step} null
     * means the checkpoint {@code latest} names. Returns the folder written.
     */
    public static Path export(VaeTrainConfig cfg, Long step, Trainer.Listener listener) {
        RunFolder folder = new RunFolder(cfg.run().output(), RunFolder.Faults.NONE);
        Path checkpoint = step == null ? folder.latest() : folder.root().resolve(RunFolder.name(step));
        if (checkpoint == null) throw new OvisException(folder.root() + ": no checkpoint to export (no \"latest\" file)");
        if (!Files.isRegularFile(checkpoint.resolve(TrainState.FILE)))
            throw new OvisException(checkpoint + ": not a complete checkpoint of this run");
        TrainState state = TrainState.read(checkpoint);
        if (!state.configSha256().equals(cfg.fingerprintHash())) {
            String diff = TrainConfig.difference("", state.fingerprint(), cfg.fingerprint());
            throw new OvisException(cfg.file() + ": differs from the run of " + checkpoint + " (" + (diff != null ? diff : "config hash") + ")");
        }
        return export(cfg, folder, checkpoint, cfg.run().ema() != null, listener);
    }

    private static Path export(VaeTrainConfig cfg, RunFolder folder, Path checkpoint, boolean ema, Trainer.Listener listener) {
        Path source = checkpoint.resolve(ema ? VAE_EMA : VAE);
        LatentStatistics st;
        VaeTrainConfig.Statistics s = cfg.statistics();
        try (VaeFolder.Opened vae = VaeFolder.open(source)) {
            st = LatentStatistics.measure(vae.vae(), s.shards(), s.images(), s.width(), s.height(), cfg.run().seed());
        }
        listener.onMessage(String.format(java.util.Locale.ROOT, "latent statistics over %d images (%d values): mean %.6g, std %.6g → "
                + "shift_factor %.6g, scaling_factor %.6g", st.images(), st.values(), st.mean(), st.std(), st.mean(), st.scalingFactor()));
        Path out = folder.root().resolve(VAE), tmp = folder.root().resolve(VAE + ".tmp");
        try {
            FileTrees.delete(tmp);
            Files.createDirectories(tmp);
            Files.copy(source.resolve(VaeFolder.WEIGHTS), tmp.resolve(VaeFolder.WEIGHTS));
            folder.writeAtomically(tmp.resolve(VaeFolder.CONFIG),
                    org.ovis4j.core.json.Json.write(VaeFolder.config(cfg.vaeJson(), st.scalingFactor(), st.mean()), 2) + "\n");
            if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) FileTrees.delete(out);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            FileTrees.deleteQuietly(tmp);
            throw new OvisException(out + ": cannot write (" + e.getMessage() + "); the checkpoint " + checkpoint.getFileName() + " is complete");
        }
        listener.onMessage("vae written to " + out + " (from " + checkpoint.getFileName() + ")");
        return out;
    }

    /** One step's images: the next B records, cropped as the epoch's crop stream says, NCHW. */
    private void nextBatch() {
        VaeTrainConfig.Data d = cfg.data();
        int per = 3 * d.height() * d.width();
        for (int k = 0; k < cfg.run().batchSize(); k++) {
            ShardRecord r = stream.next(); // an endless stream: never null
            if (stream.epoch() != cropEpoch) { // new offsets every epoch, still a function of (seed, epoch, key)
                cropEpoch = stream.epoch();
                crops = new Preprocessing(d.width(), d.height(), d.resize(), d.crop(), SeededRandom.derive(cfg.run().seed(), CROPS, cropEpoch));
            }
            System.arraycopy(crops.apply(r), 0, images, k * per, per);
        }
    }

    private final class Task implements TrainingTask {
        @Override public Parameters parameters() { return model.parameters(); }

        @Override public double forward(long s) {
            nextBatch();
            float[] eps = GaussianNoise.sample(RunSeeds.derive(cfg.run().seed(), RunSeeds.NOISE, s),
                    cfg.run().batchSize() * activations.latentChannels() * activations.latentHeight() * activations.latentWidth());
            return objective.forward(model, activations, images, eps).loss();
        }

        @Override public void backward() {
            model.backward(activations);
        }

        @Override public void writeModel(RunFolder folder, Path dir) throws IOException {
            Map<String, Object> config = VaeFolder.config(cfg.vaeJson(), cfg.vae().scalingFactor(), cfg.vae().shiftFactor());
            VaeFolder.write(folder, dir.resolve(VAE), config, model.parameters(), Parameter::value);
            if (loop.ema() != null) VaeFolder.write(folder, dir.resolve(VAE_EMA), config, model.parameters(), loop::handedOut);
        }

        @Override public Map<String, Object> dataPosition() { return stream.position().toJson(); }

        @Override public long dataRecords() { return records; }
    }

    @Override
    public void close() {
        stream.close();
    }
}
