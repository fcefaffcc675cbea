package org.ovis4j.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.train.data.Preprocessing;
import org.ovis4j.train.data.SeededRandom;
import org.ovis4j.train.data.ShardRecord;
import org.ovis4j.train.data.ShardSet;
import org.ovis4j.train.data.ShardStream;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.testing.TinyShards;
import org.ovis4j.vae.LatentDistribution;

/**
 * {@code train vae} on a tiny AutoencoderKL ([8, 16] channels, 4 latent channels, mid-block attention):
 * the loss falls on a fixed batch, a run stopped at a checkpoint and resumed is bit-identical to the
 * uninterrupted one (weights, moments, EMA, loss curve, checkpoint and exported files), the exported
 * vae/ folder loads in the inference AutoencoderKL with the latents' statistics as its factors, and
 * bad configs are one-line errors naming the key.
 */
class VaeTrainerTest {
    @TempDir Path dir;

    static Map<String, Object> vaeJson() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("_class_name", "AutoencoderKL");
        v.put("in_channels", 3L);
        v.put("out_channels", 3L);
        v.put("latent_channels", 4L);
        v.put("block_out_channels", List.of(8L, 16L));
        v.put("layers_per_block", 1L);
        v.put("norm_num_groups", 4L);
        v.put("mid_block_add_attention", true);
        v.put("scaling_factor", 1.0);
        v.put("shift_factor", 0.0);
        v.put("use_quant_conv", false);
        v.put("use_post_quant_conv", false);
        return v;
    }

    private Map<String, Object> config(Path shards, Path output) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("vae", vaeJson());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("shards", shards.toString());
        d.put("width", 16L);
        d.put("height", 16L);
        d.put("shuffle_buffer", 3L);
        c.put("data", d);
        c.put("loss", new LinkedHashMap<>(Map.of("kl_weight", 1e-4, "l2_weight", 0.5, "gradient_weight", 0.25)));
        c.put("latent_statistics", new LinkedHashMap<>(Map.of("images", 5L, "width", 16L, "height", 16L)));
        c.put("batch_size", 2L);
        c.put("steps", 8L);
        c.put("optimizer", new LinkedHashMap<>(Map.of("lr", 1e-3)));
        c.put("schedule", new LinkedHashMap<>(Map.of("name", "cosine", "warmup_steps", 2L)));
        c.put("ema", new LinkedHashMap<>(Map.of("decay", 0.9)));
        c.put("seed", 5L);
        c.put("checkpoint_every", 4L);
        c.put("output", output.toString());
        return c;
    }

    private VaeTrainConfig read(String name, Map<String, Object> c) throws IOException {
        Path f = RunFixtures.write(dir.resolve(name), c);
        return VaeTrainConfig.read(f);
    }

    private static final class Stop extends RuntimeException {}

    @Test
    void theLossFallsOnAFixedBatch() throws IOException {
        // four 16x16 records and a batch of four: every step trains on the same images
        Path shards = TinyShards.write(dir.resolve("fixed"), 1, 4, 16, 16);
        Map<String, Object> c = config(shards, dir.resolve("fixed-run"));
        c.put("batch_size", 4L);
        c.put("steps", 60L);
        c.put("checkpoint_every", 60L);
        c.put("loss", new LinkedHashMap<>(Map.of("kl_weight", 1e-6)));
        c.put("optimizer", new LinkedHashMap<>(Map.of("lr", 3e-3)));
        c.put("schedule", new LinkedHashMap<>(Map.of("name", "constant")));
        c.remove("ema");
        try (VaeTrainer t = VaeTrainer.open(read("fixed.json", c), false, Trainer.Listener.NONE)) {
            t.train();
            List<LossLog.Row> rows = t.losses();
            double first = rows.getFirst().loss(), last = 0;
            for (LossLog.Row r : rows.subList(50, 60)) last += r.loss() / 10;
            System.out.printf("vae fixed batch: loss %.4f -> %.4f (last 10 steps)%n", first, last);
            assertTrue(last < 0.5 * first, "loss " + first + " -> " + last);
        }
    }

    @Test
    void aResumedRunIsBitIdenticalAndTheExportLoads() throws IOException {
        // 32x32 records cropped to 16x16 at random offsets: 6 records, batch 2, so epochs (and crops) change at steps 4 and 7
        Path shards = TinyShards.write(dir.resolve("shards"), 2, 3, 32, 32);
        Path a = dir.resolve("a"), b = dir.resolve("b");
        Map<String, Object> mapA = config(shards, a), mapB = config(shards, b);
        for (Map<String, Object> m : List.of(mapA, mapB)) m.put("latent_statistics", new LinkedHashMap<>(Map.of("images", 5L, "width", 32L, "height", 32L)));
        VaeTrainConfig ca = read("a.json", mapA), cb = read("b.json", mapB);
        try (VaeTrainer whole = VaeTrainer.open(ca, false, Trainer.Listener.NONE)) {
            whole.train();
            try (VaeTrainer first = VaeTrainer.open(cb, false, new Trainer.Listener() {
                @Override public void onCheckpoint(long s, Path d) {
                    if (s == 4) throw new Stop();
                }
            })) {
                assertThrows(Stop.class, first::train);
                assertEquals(4, first.step());
                assertFalse(Files.exists(b.resolve("vae")), "no export before the run completes");
            }
            try (VaeTrainer resumed = VaeTrainer.open(cb, true, Trainer.Listener.NONE)) {
                assertEquals(4, resumed.step());
                resumed.train();
                assertEquals(whole.losses(), resumed.losses());
                for (Parameter p : whole.model().parameters()) {
                    Parameter q = resumed.model().parameters().get(p.name());
                    ResumeTest.assertBits(p.name(), p.value(), q.value());
                    ResumeTest.assertBits("exp_avg." + p.name(), whole.optimizer().expAvg(p.name()), resumed.optimizer().expAvg(p.name()));
                    ResumeTest.assertBits("exp_avg_sq." + p.name(), whole.optimizer().expAvgSq(p.name()), resumed.optimizer().expAvgSq(p.name()));
                    ResumeTest.assertBits("ema." + p.name(), whole.ema().shadow(p.name()), resumed.ema().shadow(p.name()));
                }
            }
        }
        ResumeTest.assertSameFiles(a.resolve("step-000008"), b.resolve("step-000008"));
        ResumeTest.assertSameFiles(a.resolve("vae"), b.resolve("vae"));
        assertEquals(Files.readString(a.resolve("loss.csv")), Files.readString(b.resolve("loss.csv")));
        assertEquals(9, Files.readAllLines(a.resolve("loss.csv")).size());
        assertTrue(Files.size(a.resolve("loss.png")) > 1000);

        // output/vae: the EMA weights, loadable by inference, its factors the latents' statistics
        Config cfg = Config.read(a.resolve("vae/config.json"));
        double scale = cfg.getDouble("scaling_factor"), shift = cfg.getDouble("shift_factor");
        assertEquals(List.of(8L, 16L), cfg.map().get("block_out_channels"));
        try (VaeFolder.Opened v = VaeFolder.open(a.resolve("vae"))) {
            // the statistics recomputed here: the first 5 records in shard order, centre 32x32, z = mean + std·ε
            double sum = 0, sq = 0;
            long n = 0;
            Preprocessing prep = new Preprocessing(32, 32, Preprocessing.Resize.CROP, Preprocessing.Crop.CENTER, 5);
            try (ShardStream s = new ShardStream(ShardSet.open(shards), new ShardStream.Options(5, 1, false, true), 1)) {
                for (int i = 0; i < 5; i++) {
                    ShardRecord r = s.next();
                    LatentDistribution d = v.vae().encode(prep.apply(r), 32, 32);
                    float[] z = d.sample(GaussianNoise.sample(SeededRandom.derive(5, 21, i), d.mean().length));
                    for (float x : z) {
                        sum += x;
                        sq += (double) x * x;
                        n++;
                    }
                }
            }
            double mean = sum / n, std = Math.sqrt(sq / n - mean * mean);
            assertEquals(mean, shift, 1e-12 + 1e-9 * Math.abs(mean));
            assertEquals(1 / std, scale, 1e-9 / std);
            float[] image = v.vae().decode(new float[4 * 4 * 4], 4, 4); // 2 levels: 2x upsampling
            assertEquals(3 * 8 * 8, image.length);
        }
        // the exported weights are the EMA's
        byte[] ema = Files.readAllBytes(a.resolve("step-000008/vae_ema/diffusion_pytorch_model.safetensors"));
        org.junit.jupiter.api.Assertions.assertArrayEquals(ema, Files.readAllBytes(a.resolve("vae/diffusion_pytorch_model.safetensors")));
    }

    @Test
    void aNonFiniteLossStopsTheRunNamingTheStep() throws IOException {
        Path shards = TinyShards.write(dir.resolve("shards"), 1, 4, 16, 16);
        Map<String, Object> c = config(shards, dir.resolve("nan"));
        c.put("checkpoint_every", 1L);
        c.put("max_grad_norm", 0L);
        c.put("schedule", new LinkedHashMap<>(Map.of("name", "constant")));
        c.put("optimizer", new LinkedHashMap<>(Map.of("lr", 1e30)));
        List<Long> checkpoints = new ArrayList<>();
        try (VaeTrainer t = VaeTrainer.open(read("nan.json", c), false, new Trainer.Listener() {
            @Override public void onCheckpoint(long step, Path d) {
                checkpoints.add(step);
            }
        })) {
            OvisException e = assertThrows(OvisException.class, t::train);
            long bad = checkpoints.size() + 1;
            assertTrue(e.getMessage().matches("step " + bad + ": the (loss|gradient norm) is (NaN|Infinity|-Infinity); training stopped, .*"), e.getMessage());
            assertEquals(RunFolder.name(bad - 1), Files.readString(dir.resolve("nan/latest")).strip());
        }
    }

    @Test
    void resumingWithAnotherLossNamesTheKey() throws IOException {
        Path shards = TinyShards.write(dir.resolve("shards"), 1, 4, 16, 16);
        Map<String, Object> c = config(shards, dir.resolve("r"));
        c.put("steps", 1L);
        try (VaeTrainer t = VaeTrainer.open(read("r.json", c), false, Trainer.Listener.NONE)) {
            t.train();
        }
        c.put("loss", new LinkedHashMap<>(Map.of("kl_weight", 1e-4, "l2_weight", 0.0, "gradient_weight", 0.25)));
        VaeTrainConfig other = read("r2.json", c);
        OvisException e = assertThrows(OvisException.class, () -> VaeTrainer.open(other, true, Trainer.Listener.NONE));
        assertTrue(e.getMessage().contains("\"loss.l2_weight\" was 0.5, now 0.0"), e.getMessage());
    }

    @Test
    void logvarBiasSetsTheLogVarianceHalfOfTheEncodersOutputBias() throws IOException {
        Path shards = TinyShards.write(dir.resolve("shards"), 1, 2, 16, 16);
        Map<String, Object> plain = config(shards, dir.resolve("p")), low = config(shards, dir.resolve("l"));
        low.put("init", new LinkedHashMap<>(Map.of("logvar_bias", -8.0)));
        try (VaeTrainer a = VaeTrainer.open(read("p.json", plain), false, Trainer.Listener.NONE);
             VaeTrainer b = VaeTrainer.open(read("l.json", low), false, Trainer.Listener.NONE)) {
            float[] x = a.model().parameters().get("encoder.conv_out.bias").value(), y = b.model().parameters().get("encoder.conv_out.bias").value();
            assertEquals(8, x.length); // 2 · 4 latent channels: means, then log-variances
            for (int i = 0; i < 4; i++) assertEquals(x[i], y[i], 0f, "mean channel " + i + " keeps the scheme's value");
            for (int i = 4; i < 8; i++) {
                assertEquals(-8f, y[i], 0f);
                assertTrue(x[i] != -8f);
            }
            for (Parameter p : a.model().parameters())
                if (!p.name().equals("encoder.conv_out.bias")) ResumeTest.assertBits(p.name(), p.value(), b.model().parameters().get(p.name()).value());
        }
        low.put("init", new LinkedHashMap<>(Map.of("logvar_bias", -31.0)));
        assertConfigError(low, "key \"init.logvar_bias\" must be within the posterior's clamp [-30, 20], got -31.0");
    }

    private void assertConfigError(Map<String, Object> c, String expected) throws IOException {
        OvisException e = assertThrows(OvisException.class, () -> read("bad.json", c));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void badConfigsAreOneLineErrorsNamingTheKey() throws IOException {
        Path shards = TinyShards.write(dir.resolve("shards"), 1, 2, 16, 16);
        Path out = dir.resolve("out");
        Map<String, Object> c = config(shards, out);
        c.put("lr", 1e-3);
        assertConfigError(c, "unknown key \"lr\"");
        c = config(shards, out);
        c.remove("vae");
        assertConfigError(c, "missing key \"vae\"");
        c = config(shards, out);
        c.put("vae", 3L);
        assertConfigError(c, "key \"vae\" must be a diffusers AutoencoderKL config");
        c = config(shards, out);
        RunFixtures.child(c, "vae").put("use_quant_conv", true);
        assertConfigError(c, "use_quant_conv and use_post_quant_conv must be false");
        c = config(shards, out);
        RunFixtures.child(c, "vae").remove("latent_channels");
        assertConfigError(c, "latent_channels");
        c = config(shards, out);
        RunFixtures.child(c, "data").put("width", 24L);
        assertConfigError(c, "key \"data.width\" and \"data.height\" must be multiples of 16, got 24x16");
        c = config(shards, out);
        RunFixtures.child(c, "data").put("resize", "stretch");
        assertConfigError(c, "key \"data.resize\" must be one of crop, cover, got \"stretch\"");
        c = config(shards, out);
        RunFixtures.child(c, "data").remove("shards");
        assertConfigError(c, "missing key \"data.shards\"");
        c = config(shards, out);
        RunFixtures.child(c, "loss").put("kl_weight", -1.0);
        assertConfigError(c, "key \"loss.kl_weight\" must not be negative, got -1.0");
        c = config(shards, out);
        RunFixtures.child(c, "loss").put("lpips_weight", 1.0);
        assertConfigError(c, "unknown key \"loss.lpips_weight\"");
        c = config(shards, out);
        c.remove("steps");
        assertConfigError(c, "missing key \"steps\"");
        c = config(shards, out);
        RunFixtures.child(c, "optimizer").remove("lr");
        assertConfigError(c, "missing key \"optimizer.lr\"");
        c = config(shards, out);
        RunFixtures.child(c, "latent_statistics").put("width", 20L);
        assertConfigError(c, "key \"latent_statistics.width\" and \"latent_statistics.height\" must be multiples of 16 and of the VAE's downscale 2, got 20x16");
    }

    @Test
    void imagesSmallerThanTheCropAreAnErrorNamingTheRecord() throws IOException {
        Path shards = TinyShards.write(dir.resolve("small"), 1, 2, 16, 16);
        Map<String, Object> c = config(shards, dir.resolve("small-run"));
        RunFixtures.child(c, "data").put("width", 32L);
        try (VaeTrainer t = VaeTrainer.open(read("small.json", c), false, Trainer.Listener.NONE)) {
            OvisException e = assertThrows(OvisException.class, t::train);
            assertTrue(e.getMessage().contains("image is 16x16, smaller than the crop 32x16"), e.getMessage());
        }
    }
}
