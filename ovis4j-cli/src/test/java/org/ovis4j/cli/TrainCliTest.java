package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.json.Json;
import org.ovis4j.train.testing.TinyShards;

/** {@code ovis4j train --config} end to end on the tiny checkpoint, and its one-line errors for bad input. */
class TrainCliTest {
    @TempDir Path dir;

    private Map<String, Object> config(Path shards) {
        Map<String, Object> c = new LinkedHashMap<>();
        // a copy: checkpoints link to their base model, and links inside the temporary folder are removed with it quietly
        Path model = dir.resolve("model");
        if (!Files.isDirectory(model)) org.ovis4j.train.testing.TrainingGoldens.copyTinyModel(model);
        c.put("model", model.toString());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("shards", shards.toString());
        data.put("width", 32L);
        data.put("height", 32L);
        data.put("max_sequence_length", 24L);
        c.put("data", data);
        c.put("batch_size", 4L);
        c.put("steps", 4L);
        c.put("optimizer", Map.of("lr", 1e-3));
        c.put("checkpoint_every", 2L);
        c.put("samples", Map.of("every", 2L, "prompts", List.of("a red sign that says \"1\""), "steps", 2L));
        c.put("output", "run");
        return c;
    }

    private Path write(Map<String, Object> c) throws IOException {
        Path f = dir.resolve("train.json");
        Files.writeString(f, Json.write(c, 2));
        return f;
    }

    @Test
    void trainsWritesCheckpointsAndResumes() throws IOException {
        Path f = write(config(TinyShards.write(dir.resolve("shards"), 2, 4, 32, 32)));
        CliTest.Result r = CliTest.run("train", "--config", f.toString());
        assertEquals(0, r.code(), r.err());
        Path run = dir.resolve("run");
        assertTrue(r.err().contains("step 4/4  loss "), r.err());
        assertTrue(r.err().contains("checkpoint " + run.resolve("step-000004")), r.err());
        assertTrue(r.err().contains("samples of step 4: " + run.resolve("samples/step-000004")), r.err());
        assertEquals("step-000004", Files.readString(run.resolve("latest")).strip());
        for (String p : new String[] {"loss.csv", "loss.png", "cache/cache.json", "step-000002/state.json", "step-000004/optimizer.safetensors",
                "step-000004/transformer/diffusion_pytorch_model.safetensors", "samples/step-000002/00.png", "samples/step-000004/00.png"})
            assertTrue(Files.isRegularFile(run.resolve(p)), p);
        assertEquals(5, Files.readAllLines(run.resolve("loss.csv")).size());

        // the checkpoint is a model folder: generate reads it
        CliTest.Result g = CliTest.run("generate", "--model", run.resolve("step-000004").toString(), "--prompt", "x", "--width", "32",
                "--height", "32", "--steps", "1", "--precision", "fp32", "--output", dir.resolve("x.png").toString());
        assertEquals(0, g.code(), g.err());

        r = CliTest.run("train", "--config", f.toString(), "--resume");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("the run is complete (step 4 of 4)"), r.err());
        CliTest.assertOneLineError(CliTest.run("train", "--config", f.toString()), "holds a run (latest checkpoint step-000004); pass --resume");
    }

    @Test
    void configErrorsAreOneLine() throws IOException {
        Path shards = TinyShards.write(dir.resolve("shards"), 1, 2, 32, 32);
        CliTest.Result r = CliTest.run("train");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--config FILE.json is required"), r.err());
        Map<String, Object> c = config(shards);
        c.put("epochs", 3L);
        CliTest.assertOneLineError(CliTest.run("train", "--config", write(c).toString()), "train.json: unknown key \"epochs\"");
        c = config(shards);
        c.remove("output");
        CliTest.assertOneLineError(CliTest.run("train", "--config", write(c).toString()), "train.json: missing key \"output\"");
        c = config(shards);
        c.put("model", dir.resolve("nothing").toString());
        CliTest.assertOneLineError(CliTest.run("train", "--config", write(c).toString()), "nothing: folder not found");
        CliTest.assertOneLineError(CliTest.run("train", "--config", dir.resolve("none.json").toString()), "none.json: file not found");
    }

    @Test
    void aMissingShardIsNamed() throws IOException {
        Path shards = TinyShards.write(dir.resolve("shards"), 2, 2, 32, 32);
        Files.delete(shards.resolve("shard-000001.tar"));
        CliTest.Result r = CliTest.run("train", "--config", write(config(shards)).toString());
        CliTest.assertOneLineError(r, shards.resolve("shard-000001.tar") + ": shard listed in manifest.json not found");
        assertFalse(Files.exists(dir.resolve("run/latest")));
    }

    @Test
    void anImageOfTheWrongSizeIsNamedWhenResizingIsOff() throws IOException {
        Map<String, Object> c = config(TinyShards.write(dir.resolve("shards"), 1, 2, 48, 32));
        @SuppressWarnings("unchecked") Map<String, Object> data = (Map<String, Object>) c.get("data");
        data.put("resize", "off");
        CliTest.Result r = CliTest.run("train", "--config", write(c).toString());
        CliTest.assertOneLineError(r, "image is 48x32, the training size is 32x32 and resizing is off");
        assertTrue(r.err().contains("shard-000000.tar"), r.err());
    }
}
