package org.ovis4j.train.run;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;
import org.ovis4j.core.json.Json;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.hub.HubModels;
import org.ovis4j.hub.HubSettings;
import org.ovis4j.hub.PullListener;
import org.ovis4j.pipeline.Precision;
import org.ovis4j.train.data.CachedDataset;
import org.ovis4j.train.data.Preprocessing;
import org.ovis4j.train.dit.TransformerInit;
import org.ovis4j.train.optim.AdamW;
import org.ovis4j.train.optim.ComputePrecision;
import org.ovis4j.train.optim.ComputeWeights;
import org.ovis4j.train.optim.EmaWeights;
import org.ovis4j.train.sampling.SigmaSampler;

/**
 * A training run as {@code ovis4j train --config FILE.json} describes it. Every key, its default and
 * its meaning (README "Training" lists them with an example); relative paths are resolved against the
 * config file's folder; unknown keys and missing required keys are one-line errors naming the file and
 * the key's dotted path.
 *
 * <pre>
 * model                 required  checkpoint folder (either layout): tokenizer, text encoder and VAE (frozen), the
 *                                 transformer to fine-tune (unless from_scratch); or a Hugging Face model
 *                                 NAMESPACE/NAME[@REVISION] in the Hub cache
 * from_scratch          optional  train a new transformer instead of the model's:
 *   .transformer        required    its diffusers config.json, as an object or a file name
 *   .init               "pytorch"   pytorch (diffusers' defaults: torch's nn.Linear and ones for norms) or goldens
 *                                   (the tiny golden checkpoint's draws), see {@link TransformerInit}
 *   .seed               = seed      seed of the initial values
 * mode                  "full"    full (every transformer parameter trained) or lora (base frozen)
 * lora                  with lora  .rank (required), .alpha (default = rank), .target_modules (required; peft
 *                                   names such as "to_q" or "attn.to_out.0"), .seed (default = seed)
 * data                  required
 *   .shards             one of      tar shards (a folder with manifest.json, or of *.tar): the cache is built from
 *                                   them once (VAE and text encoder), into .cache
 *   .cache              these       the latent cache folder (default: output/cache when .shards is given; an existing
 *                                   cache alone otherwise)
 *   .width, .height     with shards training size in pixels (multiples of 16)
 *   .resize             "cover"     cover (scale to cover the size, then crop) or off (images must have the size)
 *   .crop               "center"    center or random (a seeded offset per record)
 *   .max_sequence_length 256        prompt tokens kept (as generate's --max-sequence-length)
 *   .posterior          "sample"    sample (z = mean + std·ε afresh per epoch, as diffusers' scripts) or mean
 *   .encoder_precision  "fp32"      precision of the frozen encoders when the cache is built (fp32 or bf16)
 * batch_size            1
 * steps                 required  optimizer steps of the whole run
 * optimizer             required  AdamW: .lr (required), .beta1 0.9, .beta2 0.999, .eps 1e-8, .weight_decay 0.01
 *                                 (torch.optim.AdamW's defaults)
 * schedule              constant  .name: constant, constant_with_warmup or cosine (diffusers' get_scheduler),
 *                                 .warmup_steps 0
 * max_grad_norm         1.0       clip the global gradient norm to this (0: no clipping)
 * ema                   optional  .decay (required), .schedule "fixed" or "diffusers", .min_decay 0,
 *                                 .update_after_step 0
 * sigma_sampling        optional  .density "ovis" (official: sigmoid(μ(N) + u)), "logit_normal" (sigmoid(m + s·u))
 *                                 or "logit_normal_discrete" (diffusers' scripts); .mean 0, .std 1
 * prompt_dropout        0         probability that a sample trains on the empty prompt (for guidance)
 * gradient_checkpointing false    recompute each block in the backward (same gradients, less memory)
 * compute_precision     "fp32"    fp32, or bf16: the transformer's linear products (forward, dX, dW) take
 *                                 bf16-rounded operands with float32 sums and results (PyTorch's CPU autocast),
 *                                 over bf16 copies of the weights made once per optimizer step; the float32
 *                                 masters, norms, attention, loss and AdamW are unchanged. Needs oneDNN's bf16
 *                                 matmul (a CPU with AVX512-BF16 or AMX); elsewhere the run says so once and
 *                                 computes in fp32 (see {@link ComputeWeights})
 * seed                  0         every random draw of the run is a function of it and the step
 * checkpoint_every      500       steps between checkpoints (the last step always writes one)
 * keep_last             0         checkpoints kept (0: all)
 * samples               optional  .every (required), .prompts (required), .negative_prompt "", .width/.height
 *                                 (default: the training size), .steps 28, .guidance 5.0, .seed 0,
 *                                 .max_sequence_length (default: data's), .precision "fp32"
 * eval                  optional  the learning curve: every .every steps (required) the prompts of .prompts (required:
 *                                 a JSON Lines file as `ovis4j eval text` reads, the first .limit of them, 0 = all) are
 *                                 drawn with the current weights and read back by OCR (Tesseract; .tessdata, default
 *                                 $TESSDATA_PREFIX then the system's); word accuracy and NED against the samples seen
 *                                 go to eval.csv and eval.png. Drawing options as for samples (prompt i: seed + i)
 * output                required  run folder: checkpoints, loss.csv, loss.png, samples/
 * </pre>
 *
 * A resumed run must have the same config except {@code checkpoint_every}, {@code keep_last},
 * {@code samples}, {@code eval} and {@code output}, which do not change what is trained ({@link #fingerprint}).
 */
public record TrainConfig(Path file, Path model, FromScratch fromScratch, Mode mode, Lora lora, Data data, int batchSize,
                          long steps, AdamW.Hyperparameters optimizer, Schedule schedule, double maxGradNorm, Ema ema,
                          Sigma sigma, double promptDropout, boolean gradientCheckpointing, ComputePrecision computePrecision, long seed,
                          long checkpointEvery, int keepLast, Samples samples, Eval eval, Path output) {

    public enum Mode { FULL, LORA }

    /** A new transformer: its config (diffusers form, as JSON), initialisation and seed. */
    public record FromScratch(Map<String, Object> transformerJson, TransformerConfig transformer, TransformerInit.Scheme init,
                              long seed) {}

    public record Lora(int rank, double alpha, List<String> targetModules, long seed) {}

    /** {@code shards} null: {@code cache} is an existing cache (and width, height, ... are 0 / null). */
    public record Data(Path shards, Path cache, int width, int height, Preprocessing.Resize resize, Preprocessing.Crop crop,
                       int maxSequenceLength, CachedDataset.Posterior posterior, Precision encoderPrecision) {}

    public record Schedule(String name, long warmupSteps) {}

    public record Ema(EmaWeights.Options options) {}

    public record Sigma(SigmaSampler.Density density, double mean, double std) {}

    /**
     * How images are drawn during a run (samples and the learning curve): prompt i of a list with seed
     * {@code seed + i}; width/height 0: the training size; msl 0: the data's.
     */
    public record Drawing(String negativePrompt, int width, int height, int steps, float guidance, long seed, int maxSequenceLength,
                          Precision precision) {}

    /** Sample images rendered every {@code every} steps. */
    public record Samples(long every, List<String> prompts, Drawing drawing) {}

    /**
     * The learning curve: every {@code every} steps the first {@code limit} prompts (0: all) of an
     * evaluation prompt file drawn and scored by OCR; {@code tessdata} null: found as {@code eval text} does.
     */
    public record Eval(long every, Path prompts, int limit, Path tessdata, Drawing drawing) {}

    /**
     * {@code "model"}: a folder (relative to the config's), or a Hugging Face model {@code NAMESPACE/NAME[@REVISION]} from
     * the Hub cache (pulled beforehand: {@code ovis4j pull}, or {@code train --pull}).
     */
    private static Path modelFolder(ConfigObject c) {
        String value = c.string("model"); // the missing-key error
        try {
            return HubModels.resolve(value, c.file().toAbsolutePath().getParent(), false, HubSettings.fromEnvironment(), PullListener.NONE);
        } catch (OvisException e) {
            throw c.error("model", e.getMessage());
        }
    }

    /** Reads and checks a config file. */
    public static TrainConfig read(Path file) {
        Config raw = Config.read(file); // file-not-found and JSON syntax errors, one line
        return parse(new ConfigObject(file, "", raw.map()));
    }

    static TrainConfig parse(ConfigObject c) {
        long seed = c.integer("seed", 0);
        Path model = modelFolder(c);

        FromScratch scratch = null;
        ConfigObject fs = c.object("from_scratch");
        if (fs != null) scratch = fromScratch(fs, seed);

        Mode mode = Mode.valueOf(c.choice("mode", "full", "full", "lora").toUpperCase(java.util.Locale.ROOT));
        Lora lora = null;
        ConfigObject lo = c.object("lora");
        if (mode == Mode.LORA && lo == null) throw new OvisException(c.file() + ": missing key \"lora\" (mode is lora)");
        if (mode == Mode.FULL && lo != null) throw c.error("lora", "is only read with \"mode\": \"lora\"");
        if (lo != null) {
            int rank = lo.integer("rank", 1, 1 << 16);
            double alpha = lo.number("alpha", rank);
            if (!(alpha > 0)) throw lo.error("alpha", "must be positive, got " + alpha);
            List<String> targets = lo.strings("target_modules");
            if (targets.isEmpty()) throw lo.error("target_modules", "must name at least one module");
            lora = new Lora(rank, alpha, targets, lo.integer("seed", seed));
            lo.finish();
        }
        if (scratch != null && mode == Mode.LORA)
            throw new OvisException(c.file() + ": \"from_scratch\" trains every parameter; it cannot be combined with \"mode\": \"lora\"");

        ConfigObject d = c.object("data");
        if (d == null) c.string("data");
        Path output = RunSettings.output(c);
        Data data = data(d, output);

        int batch = RunSettings.batchSize(c);
        long steps = RunSettings.steps(c);
        AdamW.Hyperparameters hp = RunSettings.optimizer(c);
        Schedule schedule = RunSettings.schedule(c);
        double clip = RunSettings.maxGradNorm(c);
        Ema ema = RunSettings.ema(c);

        Sigma sigma = new Sigma(SigmaSampler.Density.OVIS, 0, 1);
        ConfigObject sg = c.object("sigma_sampling");
        if (sg != null) {
            String density = sg.choice("density", "ovis", "ovis", "logit_normal", "logit_normal_discrete");
            sigma = new Sigma(SigmaSampler.Density.valueOf(density.toUpperCase(java.util.Locale.ROOT)), sg.number("mean", 0), sg.number("std", 1));
            if (!(sigma.std() > 0)) throw sg.error("std", "must be positive");
            sg.finish();
        }

        double dropout = c.number("prompt_dropout", 0);
        if (!(dropout >= 0 && dropout <= 1)) throw c.error("prompt_dropout", "must be in [0, 1], got " + dropout);
        boolean recompute = c.bool("gradient_checkpointing", false);
        ComputePrecision precision = ComputePrecision.parse(c.choice("compute_precision", "fp32", "fp32", "bf16"));
        long every = RunSettings.checkpointEvery(c);
        int keep = RunSettings.keepLast(c);

        Samples samples = null;
        ConfigObject sm = c.object("samples");
        if (sm != null) samples = samples(sm, data);
        Eval eval = null;
        ConfigObject ev = c.object("eval");
        if (ev != null) eval = eval(ev, data);
        c.finish();
        return new TrainConfig(c.file(), model, scratch, mode, lora, data, batch, steps, hp, schedule, clip, ema, sigma, dropout,
                recompute, precision, seed, every, keep, samples, eval, output);
    }

    @SuppressWarnings("unchecked")
    private static FromScratch fromScratch(ConfigObject fs, long seed) {
        Object t = fs.raw("transformer");
        Map<String, Object> json;
        String where;
        if (t instanceof String name) {
            Path p = fs.resolve(name);
            json = Config.read(p).map();
            where = p.toString();
        } else if (t instanceof Map<?, ?> m) {
            json = (Map<String, Object>) m;
            where = fs.file() + ": key \"" + fs.path("transformer") + "\"";
        } else if (t == null) {
            throw new OvisException(fs.file() + ": missing key \"" + fs.path("transformer") + "\"");
        } else {
            throw fs.error("transformer", "must be a diffusers transformer config (an object or a file name)");
        }
        TransformerConfig cfg = TransformerConfig.fromDiffusers(new Config(where, json));
        TransformerInit.Scheme init = TransformerInit.Scheme.parse(fs.file() + ": key \"" + fs.path("init") + "\"", fs.string("init", "pytorch"));
        FromScratch out = new FromScratch(json, cfg, init, fs.integer("seed", seed));
        fs.finish();
        return out;
    }

    private static Data data(ConfigObject d, Path output) {
        Path shards = d.path("shards", null);
        Path cache = d.path("cache", null);
        if (shards == null && cache == null)
            throw new OvisException(d.file() + ": key \"data\" needs \"data.shards\" (tar shards to cache) or \"data.cache\" (an existing cache)");
        int msl = d.integer("max_sequence_length", 256, 1, 256);
        CachedDataset.Posterior posterior = CachedDataset.Posterior.valueOf(d.choice("posterior", "sample", "sample", "mean").toUpperCase(java.util.Locale.ROOT));
        Data out;
        if (shards != null) {
            int w = d.integer("width", 16, 4096), h = d.integer("height", 16, 4096);
            if (w % 16 != 0 || h % 16 != 0) throw d.error("width", "and \"" + d.path("height") + "\" must be multiples of 16, got " + w + "x" + h);
            Preprocessing.Resize resize = Preprocessing.Resize.valueOf(d.choice("resize", "cover", "cover", "off").toUpperCase(java.util.Locale.ROOT));
            Preprocessing.Crop crop = Preprocessing.Crop.valueOf(d.choice("crop", "center", "center", "random").toUpperCase(java.util.Locale.ROOT));
            Precision p = Precision.parse(d.choice("encoder_precision", "fp32", "fp32", "bf16"));
            out = new Data(shards, cache != null ? cache : output.resolve("cache"), w, h, resize, crop, msl, posterior, p);
        } else {
            for (String k : new String[] {"width", "height", "resize", "crop", "encoder_precision", "max_sequence_length"})
                if (d.has(k)) throw d.error(k, "is only read with \"" + d.path("shards") + "\" (an existing cache has its own)");
            out = new Data(null, cache, 0, 0, null, null, 0, posterior, null);
        }
        d.finish();
        return out;
    }

    private static Samples samples(ConfigObject s, Data data) {
        long every = s.integer("every");
        if (every < 1) throw s.error("every", "must be at least 1");
        List<String> prompts = s.strings("prompts");
        if (prompts.isEmpty()) throw s.error("prompts", "must hold at least one prompt");
        Samples out = new Samples(every, prompts, drawing(s, data));
        s.finish();
        return out;
    }

    private static Eval eval(ConfigObject e, Data data) {
        long every = e.integer("every");
        if (every < 1) throw e.error("every", "must be at least 1");
        Path prompts = e.path("prompts", null);
        if (prompts == null) e.string("prompts"); // the missing-key error
        int limit = e.integer("limit", 0, 0, Integer.MAX_VALUE);
        Path tessdata = e.path("tessdata", null);
        Eval out = new Eval(every, prompts, limit, tessdata, drawing(e, data));
        e.finish();
        return out;
    }

    /** The drawing keys shared by "samples" and "eval". */
    private static Drawing drawing(ConfigObject s, Data data) {
        int w = s.integer("width", data.width(), 0, 4096), h = s.integer("height", data.height(), 0, 4096);
        int steps = s.integer("steps", 28, 1, 1000);
        float guidance = (float) s.number("guidance", 5.0);
        int msl = s.integer("max_sequence_length", data.maxSequenceLength(), 0, 256);
        Precision p = Precision.parse(s.choice("precision", "fp32", "fp32", "bf16"));
        return new Drawing(s.string("negative_prompt", ""), w, h, steps, guidance, s.integer("seed", 0), msl, p);
    }

    // ---------------------------------------------------------------- fingerprint

    /**
     * What is trained, as canonical JSON values (every default filled in, paths absolute): two configs
     * with the same fingerprint train the same run, bit for bit. The keys that only say where and how
     * often to write things (checkpoint_every, keep_last, samples, eval, output) are left out, so a resumed
     * run may change them.
     */
    public Map<String, Object> fingerprint() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model.toAbsolutePath().normalize().toString());
        if (fromScratch != null) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("transformer", fromScratch.transformerJson());
            f.put("init", fromScratch.init().id());
            f.put("seed", fromScratch.seed());
            m.put("from_scratch", f);
        }
        m.put("mode", mode.name().toLowerCase(java.util.Locale.ROOT));
        if (lora != null) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("rank", (long) lora.rank());
            l.put("alpha", lora.alpha());
            l.put("target_modules", new ArrayList<Object>(lora.targetModules()));
            l.put("seed", lora.seed());
            m.put("lora", l);
        }
        Map<String, Object> d = new LinkedHashMap<>();
        if (data.shards() != null) {
            d.put("shards", data.shards().toAbsolutePath().normalize().toString());
            d.put("width", (long) data.width());
            d.put("height", (long) data.height());
            d.put("resize", data.resize().id());
            d.put("crop", data.crop().id());
            d.put("max_sequence_length", (long) data.maxSequenceLength());
            d.put("encoder_precision", data.encoderPrecision().name().toLowerCase(java.util.Locale.ROOT));
        } else {
            d.put("cache", data.cache().toAbsolutePath().normalize().toString());
        }
        d.put("posterior", data.posterior().id());
        m.put("data", d);
        m.put("batch_size", (long) batchSize);
        m.put("steps", steps);
        RunSettings run = run();
        m.put("optimizer", run.optimizerJson());
        m.put("schedule", run.scheduleJson());
        m.put("max_grad_norm", maxGradNorm);
        if (ema != null) m.put("ema", run.emaJson());
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("density", sigma.density().name().toLowerCase(java.util.Locale.ROOT));
        s.put("mean", sigma.mean());
        s.put("std", sigma.std());
        m.put("sigma_sampling", s);
        m.put("prompt_dropout", promptDropout);
        m.put("gradient_checkpointing", gradientCheckpointing);
        // bf16 products train other values; fp32 is left out so that runs begun before the key existed still resume
        if (computePrecision != ComputePrecision.FP32) m.put("compute_precision", computePrecision.configName());
        m.put("seed", seed);
        return m;
    }

    /** The keys {@link RunLoop} runs from. */
    RunSettings run() {
        return new RunSettings(file, batchSize, steps, optimizer, schedule, maxGradNorm, ema, seed, checkpointEvery, keepLast, output);
    }

    /** SHA-256 of the fingerprint's canonical JSON text. */
    public String fingerprintHash() {
        return sha256(Json.write(fingerprint(), 0));
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The first key (dotted path) whose value differs between two fingerprints, with both values, or
     * null when they are equal.
     */
    @SuppressWarnings("unchecked")
    static String difference(String prefix, Map<String, Object> was, Map<String, Object> now) {
        java.util.Set<String> keys = new java.util.LinkedHashSet<>(was.keySet());
        keys.addAll(now.keySet());
        for (String k : keys) {
            Object a = was.get(k), b = now.get(k);
            String path = prefix.isEmpty() ? k : prefix + "." + k;
            if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
                String d = difference(path, (Map<String, Object>) ma, (Map<String, Object>) mb);
                if (d != null) return d;
            } else if (!Json.write(a, 0).equals(Json.write(b, 0))) {
                return "\"" + path + "\" was " + (a == null ? "absent" : Json.write(a, 0)) + ", now " + (b == null ? "absent" : Json.write(b, 0));
            }
        }
        return null;
    }
}
