package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.json.Config;
import org.ovis4j.core.json.Json;

/**
 * {@code ovis4j train vae} and {@code ovis4j eval vae} end to end on a tiny AutoencoderKL trained for a
 * few steps on typography renders of {@code data synth}: the run, its export, the round-trip report
 * (the renders' word accuracy is the one {@code eval text} measures on the same files, the ratio is the
 * round trips' over it), and one-line errors.
 */
class TrainVaeCliTest {
    @TempDir Path dir;

    private Path config(Path shards) throws IOException {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("_class_name", "AutoencoderKL");
        v.put("in_channels", 3L);
        v.put("out_channels", 3L);
        v.put("latent_channels", 16L);
        v.put("block_out_channels", List.of(8L, 8L, 8L, 8L));
        v.put("layers_per_block", 1L);
        v.put("norm_num_groups", 4L);
        v.put("scaling_factor", 1.0);
        v.put("shift_factor", 0.0);
        v.put("use_quant_conv", false);
        v.put("use_post_quant_conv", false);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("vae", v);
        c.put("data", Map.of("shards", shards.toString(), "width", 32L, "height", 32L));
        c.put("latent_statistics", Map.of("images", 4L, "width", 64L, "height", 64L));
        c.put("batch_size", 2L);
        c.put("steps", 4L);
        c.put("optimizer", Map.of("lr", 1e-3));
        c.put("checkpoint_every", 2L);
        c.put("output", "run");
        Path f = dir.resolve("vae.json");
        Files.writeString(f, Json.write(c, 2));
        return f;
    }

    @Test
    void trainsExportsAndEvaluatesRoundTrips() throws IOException {
        Path data = dir.resolve("renders");
        CliTest.Result s = CliTest.run("data", "synth", "--lang", "en", "--clean", "--width", "64", "--height", "64", "--count", "4",
                "--seed", "3", "--files", "--out", data.toString(), "--threads", "1");
        assertEquals(0, s.code(), s.err());
        Path f = config(data);
        CliTest.Result r = CliTest.run("train", "vae", "--config", f.toString());
        assertEquals(0, r.code(), r.err());
        Path run = dir.resolve("run");
        assertTrue(r.err().contains("step 4/4  loss "), r.err());
        assertTrue(r.err().contains("latent statistics over 4 images"), r.err());
        for (String p : new String[] {"loss.csv", "loss.png", "step-000002/vae/config.json", "step-000004/vae/diffusion_pytorch_model.safetensors",
                "step-000004/optimizer.safetensors", "vae/config.json", "vae/diffusion_pytorch_model.safetensors"})
            assertTrue(Files.isRegularFile(run.resolve(p)), p);
        double scale = Config.read(run.resolve("vae/config.json")).getDouble("scaling_factor");
        assertTrue(scale > 0 && scale != 1.0, "scaling_factor " + scale);

        // --export of an earlier checkpoint rewrites output/vae from it
        CliTest.Result e = CliTest.run("train", "vae", "--config", f.toString(), "--export", "2");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.err().contains("vae written to " + run.resolve("vae") + " (from step-000002)"), e.err());

        Path out = dir.resolve("eval");
        CliTest.Result ev = CliTest.run("eval", "vae", "--vae", run.toString(), "--images", data.resolve("images").toString(), "--out", out.toString(),
                "--threads", "1");
        assertTrue(ev.code() == 0 || ev.code() == 3, ev.err());
        Config sum = Config.read(out.resolve("summary.json"));
        assertEquals(4, sum.getInt("images"));
        for (int i = 0; i < 4; i++) assertTrue(Files.isRegularFile(out.resolve(String.format("roundtrip/%06d.png", i))));
        double psnr = sum.getDouble("psnr_mean_db");
        assertTrue(psnr > 0 && psnr < 60, "psnr " + psnr);

        // the renders' accuracy is eval text's on the same files and prompts
        CliTest.Result t = CliTest.run("eval", "text", "--images", data.resolve("images").toString(), "--prompts", data.resolve("prompts.jsonl").toString(),
                "--out", dir.resolve("text").toString(), "--threads", "1");
        double text = Config.read(dir.resolve("text/report.json")).getDouble("word_accuracy"); // report.json rounds to 4 places
        assertEquals(text, sum.getDouble("renders_word_accuracy"), 0.5e-4 + 1e-12, t.out());
        double rt = sum.getDouble("roundtrip_word_accuracy");
        double renders = sum.getDouble("renders_word_accuracy");
        if (renders > 0) assertEquals(rt / renders, sum.getDouble("ratio"), 1e-12);
        assertTrue(ev.out().contains("4 images: renders word accuracy"), ev.out());
    }

    @Test
    void errorsAreOneLine() throws IOException {
        Path data = dir.resolve("none");
        Files.createDirectories(data);
        CliTest.assertOneLineError(CliTest.run("eval", "vae", "--vae", dir.toString(), "--images", data.toString(), "--out", dir.resolve("o").toString()),
                "neither a VAE folder nor a folder holding vae/");
        Files.writeString(dir.resolve("bad.json"), "{\"vae\": 1}");
        CliTest.assertOneLineError(CliTest.run("train", "vae", "--config", dir.resolve("bad.json").toString()),
                "key \"vae\" must be a diffusers AutoencoderKL config");
        CliTest.assertOneLineError(CliTest.run("train", "vae", "--config", config(data).toString(), "--export"), "no checkpoint to export");
    }
}
