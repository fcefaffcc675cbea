package org.ovis4j.train.run;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;
import org.ovis4j.core.json.Json;
import org.ovis4j.train.data.Preprocessing;
import org.ovis4j.train.dit.TransformerInit;
import org.ovis4j.train.loss.VaeObjective;
import org.ovis4j.train.optim.AdamW;
import org.ovis4j.vae.VaeConfig;

/**
 * A VAE training run as {@code ovis4j train vae --config FILE.json} describes it: a FLUX-architecture
 * AutoencoderKL trained from scratch on images streamed from tar shards. Read as strictly as
 * {@link TrainConfig} (unknown keys, missing keys and bad values are one-line errors naming the key);
 * the keys of {@link RunSettings} (batch_size, steps, optimizer, schedule, max_grad_norm, ema, seed,
 * checkpoint_every, keep_last, output) mean what they mean there.
 *
 * <pre>
 * vae                   required  the diffusers AutoencoderKL config.json (an object or a file name); its
 *                                 scaling_factor and shift_factor are replaced by the trained latents' statistics
 * init                  optional  .scheme "pytorch" (torch's module defaults, diffusers has no init of its own)
 *                                 or "goldens"; .seed (default = seed); .logvar_bias (default: the scheme's): the
 *                                 log-variance half of encoder.conv_out's bias, e.g. −8 (posterior std ≈ 0.02)
 * data                  required
 *   .shards             required  tar shards (a folder with manifest.json, or of *.tar)
 *   .width, .height     required  training size in pixels (multiples of 16)
 *   .resize             "crop"    crop (no scaling: a crop of the image at its own scale) or cover (scale to
 *                                 cover the size, then crop)
 *   .crop               "random"  random (a seeded offset per record and epoch) or center
 *   .shuffle_buffer     256       records in the shuffle buffer (their encoded images are held in memory)
 * loss                  optional  .kl_weight 1e-6 (LDM's kl-f8), .l2_weight 0, .gradient_weight 0 (see {@link VaeObjective})
 * latent_statistics     optional  .images 512: images encoded at the end of the run to set shift_factor
 *                                 (mean) and scaling_factor (1/std) of the latents; .shards (default data.shards);
 *                                 .width, .height (default data's): centre crops of this size (the transformer's size)
 * </pre>
 */
public record VaeTrainConfig(Path file, Map<String, Object> vaeJson, VaeConfig vae, TransformerInit.Scheme init, long initSeed,
                             Double logvarBias, Data data, VaeObjective.Weights loss, Statistics statistics, RunSettings run) {

    public record Data(Path shards, int width, int height, Preprocessing.Resize resize, Preprocessing.Crop crop, int shuffleBuffer) {}

    /** How the latent statistics are measured at the end: {@code images} records of {@code shards} in stream order, centre crops of width x height. */
    public record Statistics(int images, Path shards, int width, int height) {}

    public static VaeTrainConfig read(Path file) {
        Config raw = Config.read(file);
        return parse(new ConfigObject(file, "", raw.map()));
    }

    @SuppressWarnings("unchecked")
    static VaeTrainConfig parse(ConfigObject c) {
        long seed = c.integer("seed", 0);
        Object v = c.raw("vae");
        Map<String, Object> json;
        String where;
        if (v instanceof String name) {
            Path p = c.resolve(name);
            json = Config.read(p).map();
            where = p.toString();
        } else if (v instanceof Map<?, ?> m) {
            json = (Map<String, Object>) m;
            where = c.file() + ": key \"vae\"";
        } else if (v == null) {
            throw new OvisException(c.file() + ": missing key \"vae\"");
        } else {
            throw c.error("vae", "must be a diffusers AutoencoderKL config (an object or a file name)");
        }
        VaeConfig vae = VaeConfig.fromDiffusers(new Config(where, json));
        if (vae.useQuantConv() || vae.usePostQuantConv())
            throw new OvisException(where + ": use_quant_conv and use_post_quant_conv must be false (the FLUX architecture has neither)");
        if (vae.inChannels() != 3 || vae.outChannels() != 3)
            throw new OvisException(where + ": in_channels and out_channels must be 3 (RGB images), got " + vae.inChannels() + " and " + vae.outChannels());

        TransformerInit.Scheme init = TransformerInit.Scheme.PYTORCH;
        long initSeed = seed;
        Double logvarBias = null;
        ConfigObject in = c.object("init");
        if (in != null) {
            init = TransformerInit.Scheme.parse(c.file() + ": key \"" + in.path("scheme") + "\"", in.string("scheme", "pytorch"));
            initSeed = in.integer("seed", seed);
            if (in.has("logvar_bias")) {
                logvarBias = in.number("logvar_bias");
                if (logvarBias < -30 || logvarBias > 20) throw in.error("logvar_bias", "must be within the posterior's clamp [-30, 20], got " + logvarBias);
            }
            in.finish();
        }

        Path output = RunSettings.output(c);
        ConfigObject d = c.object("data");
        if (d == null) c.string("data");
        Path shards = d.path("shards", null);
        if (shards == null) d.string("shards");
        int w = d.integer("width", 16, 4096), h = d.integer("height", 16, 4096);
        if (w % 16 != 0 || h % 16 != 0) throw d.error("width", "and \"" + d.path("height") + "\" must be multiples of 16, got " + w + "x" + h);
        if (w % vae.downscale() != 0 || h % vae.downscale() != 0)
            throw d.error("width", "and \"" + d.path("height") + "\" must be multiples of the VAE's downscale " + vae.downscale());
        Preprocessing.Resize resize = Preprocessing.Resize.valueOf(d.choice("resize", "crop", "crop", "cover").toUpperCase(java.util.Locale.ROOT));
        Preprocessing.Crop crop = Preprocessing.Crop.valueOf(d.choice("crop", "random", "random", "center").toUpperCase(java.util.Locale.ROOT));
        int buffer = d.integer("shuffle_buffer", 256, 1, 1 << 20);
        d.finish();
        Data data = new Data(shards, w, h, resize, crop, buffer);

        VaeObjective.Weights loss = new VaeObjective.Weights(1e-6, 0, 0);
        ConfigObject l = c.object("loss");
        if (l != null) {
            double[] lw = new double[3];
            String[] keys = {"kl_weight", "l2_weight", "gradient_weight"};
            for (int i = 0; i < 3; i++) {
                lw[i] = l.number(keys[i], i == 0 ? 1e-6 : 0);
                if (lw[i] < 0) throw l.error(keys[i], "must not be negative, got " + lw[i]);
            }
            loss = new VaeObjective.Weights(lw[0], lw[1], lw[2]);
            l.finish();
        }

        Statistics stats = new Statistics(512, shards, w, h);
        ConfigObject st = c.object("latent_statistics");
        if (st != null) {
            stats = new Statistics(st.integer("images", 512, 1, 1 << 20), st.path("shards", shards), st.integer("width", w, 16, 4096),
                    st.integer("height", h, 16, 4096));
            if (stats.width() % 16 != 0 || stats.height() % 16 != 0 || stats.width() % vae.downscale() != 0 || stats.height() % vae.downscale() != 0)
                throw st.error("width", "and \"" + st.path("height") + "\" must be multiples of 16 and of the VAE's downscale " + vae.downscale()
                        + ", got " + stats.width() + "x" + stats.height());
            st.finish();
        }

        int batch = RunSettings.batchSize(c);
        long steps = RunSettings.steps(c);
        AdamW.Hyperparameters hp = RunSettings.optimizer(c);
        TrainConfig.Schedule schedule = RunSettings.schedule(c);
        double clip = RunSettings.maxGradNorm(c);
        TrainConfig.Ema ema = RunSettings.ema(c);
        long every = RunSettings.checkpointEvery(c);
        int keep = RunSettings.keepLast(c);
        c.finish();
        return new VaeTrainConfig(c.file(), json, vae, init, initSeed, logvarBias, data, loss, stats,
                new RunSettings(c.file(), batch, steps, hp, schedule, clip, ema, seed, every, keep, output));
    }

    /**
     * What is trained, as canonical JSON (defaults filled in, paths absolute); checkpoint_every, keep_last,
     * latent_statistics and output are left out, so a resumed run may change them.
     */
    public Map<String, Object> fingerprint() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "vae");
        Map<String, Object> arch = new LinkedHashMap<>(vaeJson);
        arch.remove("scaling_factor"); // measured at the end, not trained with
        arch.remove("shift_factor");
        m.put("vae", arch);
        Map<String, Object> i = new LinkedHashMap<>();
        i.put("scheme", init.id());
        i.put("seed", initSeed);
        if (logvarBias != null) i.put("logvar_bias", logvarBias);
        m.put("init", i);
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("shards", data.shards().toAbsolutePath().normalize().toString());
        d.put("width", (long) data.width());
        d.put("height", (long) data.height());
        d.put("resize", data.resize().id());
        d.put("crop", data.crop().id());
        d.put("shuffle_buffer", (long) data.shuffleBuffer());
        m.put("data", d);
        Map<String, Object> l = new LinkedHashMap<>();
        l.put("kl_weight", loss.kl());
        l.put("l2_weight", loss.l2());
        l.put("gradient_weight", loss.gradient());
        m.put("loss", l);
        m.put("batch_size", (long) run.batchSize());
        m.put("steps", run.steps());
        m.put("optimizer", run.optimizerJson());
        m.put("schedule", run.scheduleJson());
        m.put("max_grad_norm", run.maxGradNorm());
        if (run.ema() != null) m.put("ema", run.emaJson());
        m.put("seed", run.seed());
        return m;
    }

    public String fingerprintHash() {
        return TrainConfig.sha256(Json.write(fingerprint(), 0));
    }
}
