package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.json.Json;
import org.ovis4j.train.testing.TinyShards;
import org.ovis4j.train.testing.TrainingGoldens;

/**
 * {@code ovis4j train text-encoder} end to end on data engine shards with the tiny golden tokenizer: checkpoints,
 * resume, and the checkpoint's text_encoder/ dropped into the tiny checkpoint generates; one-line errors.
 */
class TrainTextEncoderCliTest {
    @TempDir Path dir;

    private Path write(Path shards, Path tokenizer, String output) throws IOException {
        Map<String, Object> te = new LinkedHashMap<>();
        te.put("hidden_size", 64L); // the tiny transformer's joint_attention_dim
        te.put("intermediate_size", 64L);
        te.put("num_hidden_layers", 1L);
        te.put("num_attention_heads", 2L);
        te.put("num_key_value_heads", 1L);
        te.put("head_dim", 16L);
        te.put("vocab_size", 1024L);
        te.put("rms_norm_eps", 1e-6);
        te.put("rope_theta", 1e6);
        te.put("tie_word_embeddings", true);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("text_encoder", te);
        c.put("tokenizer", tokenizer.toString());
        c.put("data", Map.of("shards", shards.toString(), "max_sequence_length", 24L));
        c.put("softmax", "corpus");
        c.put("batch_size", 2L);
        c.put("steps", 2L);
        c.put("optimizer", Map.of("lr", 1e-3));
        c.put("checkpoint_every", 1L);
        c.put("output", output);
        Path f = dir.resolve(output + ".json");
        Files.writeString(f, Json.write(c, 2));
        return f;
    }

    @Test
    void trainsResumesAndTheResultGenerates() throws IOException {
        Path model = TrainingGoldens.copyTinyModel(dir.resolve("model"));
        Path f = write(TinyShards.write(dir.resolve("shards"), 1, 4, 32, 32), model.resolve("tokenizer"), "te-run");
        CliTest.Result r = CliTest.run("train", "text-encoder", "--config", f.toString());
        assertEquals(0, r.code(), r.err());
        Path run = dir.resolve("te-run");
        assertTrue(r.err().contains("step 2/2  loss "), r.err());
        assertTrue(r.err().contains("checkpoint " + run.resolve("step-000002")), r.err());
        for (String p : new String[] {"loss.csv", "loss.png", "step-000001/state.json", "step-000002/optimizer.safetensors",
                "step-000002/text_encoder/config.json", "step-000002/text_encoder/model.safetensors"})
            assertTrue(Files.isRegularFile(run.resolve(p)), p);

        for (String p : new String[] {"config.json", "model.safetensors"})
            Files.copy(run.resolve("step-000002/text_encoder").resolve(p), model.resolve("text_encoder").resolve(p), StandardCopyOption.REPLACE_EXISTING);
        CliTest.Result g = CliTest.run("generate", "--model", model.toString(), "--prompt", "a sign that says \"OPEN\"", "--width", "32",
                "--height", "32", "--steps", "1", "--precision", "fp32", "--output", dir.resolve("x.png").toString());
        assertEquals(0, g.code(), g.err());

        r = CliTest.run("train", "text-encoder", "--config", f.toString(), "--resume");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("the run is complete (step 2 of 2)"), r.err());
        CliTest.assertOneLineError(CliTest.run("train", "text-encoder", "--config", f.toString()),
                "holds a run (latest checkpoint step-000002); pass --resume");
        CliTest.assertOneLineError(CliTest.run("train", "text-encoder", "--config", write(dir.resolve("shards"), dir.resolve("none"), "other").toString()),
                "none: no tokenizer.json");
    }
}
