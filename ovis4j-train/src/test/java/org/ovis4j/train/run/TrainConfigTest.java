package org.ovis4j.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.train.data.CachedDataset;
import org.ovis4j.train.dit.TransformerInit;
import org.ovis4j.train.sampling.SigmaSampler;

/** Reading configs: defaults, relative paths, and one-line errors naming the file and the key. */
class TrainConfigTest {
    @TempDir Path dir;

    private Map<String, Object> minimal() {
        return RunFixtures.config(Path.of("model"), Path.of("shards"), Path.of("cache"), Path.of("out"));
    }

    private String error(Map<String, Object> c) throws IOException {
        Path f = RunFixtures.write(dir.resolve("c.json"), c);
        return assertThrows(OvisException.class, () -> TrainConfig.read(f)).getMessage();
    }

    @Test
    void defaultsAndRelativePaths() throws IOException {
        TrainConfig c = RunFixtures.read(dir, "c.json", minimal());
        assertEquals(dir.resolve("shards"), c.data().shards());
        assertEquals(dir.resolve("cache"), c.data().cache());
        assertEquals(dir.resolve("out"), c.output());
        assertEquals(TrainConfig.Mode.FULL, c.mode());
        assertNull(c.lora());
        assertNull(c.ema());
        assertNull(c.samples());
        assertEquals(0.9, c.optimizer().beta1());
        assertEquals(0.999, c.optimizer().beta2());
        assertEquals(1e-8, c.optimizer().eps());
        assertEquals(0.01, c.optimizer().weightDecay());
        assertEquals("constant", c.schedule().name());
        assertEquals(1.0, c.maxGradNorm());
        assertEquals(SigmaSampler.Density.OVIS, c.sigma().density());
        assertEquals(CachedDataset.Posterior.MEAN, c.data().posterior());
        assertEquals(24, c.data().maxSequenceLength());
        assertEquals(0.0, c.promptDropout());
    }

    @Test
    void unknownAndMissingKeysAreNamed() throws IOException {
        Path f = dir.resolve("c.json");
        Map<String, Object> c = minimal();
        c.put("learning_rate", 1e-4);
        assertEquals(f + ": unknown key \"learning_rate\"", error(c));
        c = minimal();
        RunFixtures.child(c, "optimizer").put("betas", List.of(0.9, 0.99));
        assertEquals(f + ": unknown key \"optimizer.betas\"", error(c));
        c = minimal();
        c.remove("steps");
        assertEquals(f + ": missing key \"steps\"", error(c));
        c = minimal();
        RunFixtures.child(c, "optimizer").remove("lr");
        assertEquals(f + ": missing key \"optimizer.lr\"", error(c));
        c = minimal();
        RunFixtures.child(c, "data").remove("width");
        assertEquals(f + ": missing key \"data.width\"", error(c));
        c = minimal();
        c.remove("model");
        assertEquals(f + ": missing key \"model\"", error(c));
        c = minimal();
        c.put("mode", "lora");
        assertEquals(f + ": missing key \"lora\" (mode is lora)", error(c));
        c.put("lora", Map.of("rank", 4L));
        assertEquals(f + ": missing key \"lora.target_modules\"", error(c));
        c.put("samples", Map.of("every", 10L, "prompts", List.of("x"), "guidence", 3.0));
        c.remove("lora");
        c.put("mode", "full");
        assertEquals(f + ": unknown key \"samples.guidence\"", error(c));
    }

    @Test
    void badValuesAreNamed() throws IOException {
        Path f = dir.resolve("c.json");
        Map<String, Object> c = minimal();
        c.put("steps", "many");
        assertEquals(f + ": key \"steps\" must be an integer, got many", error(c));
        c = minimal();
        c.put("mode", "qlora");
        assertEquals(f + ": key \"mode\" must be one of full, lora, got \"qlora\"", error(c));
        c = minimal();
        RunFixtures.child(c, "data").put("width", 40L);
        assertEquals(f + ": key \"data.width\" and \"data.height\" must be multiples of 16, got 40x32", error(c));
        c = minimal();
        c.put("prompt_dropout", 1.5);
        assertEquals(f + ": key \"prompt_dropout\" must be in [0, 1], got 1.5", error(c));
        c = minimal();
        RunFixtures.child(c, "data").remove("shards");
        assertEquals(f + ": key \"data.width\" is only read with \"data.shards\" (an existing cache has its own)", error(c));
        Files.writeString(f, "{\"model\": ");
        String syntax = assertThrows(OvisException.class, () -> TrainConfig.read(f)).getMessage();
        org.junit.jupiter.api.Assertions.assertTrue(syntax.startsWith(f + ": invalid JSON at offset "), syntax);
        assertEquals(dir.resolve("none.json") + ": file not found",
                assertThrows(OvisException.class, () -> TrainConfig.read(dir.resolve("none.json"))).getMessage());
    }

    @Test
    void fromScratchReadsADiffusersTransformerConfig() throws IOException {
        Map<String, Object> c = minimal();
        Files.writeString(dir.resolve("t.json"), "{\"num_layers\": 1, \"num_single_layers\": 1, \"attention_head_dim\": 8, "
                + "\"num_attention_heads\": 2, \"joint_attention_dim\": 64, \"in_channels\": 64, \"axes_dims_rope\": [2, 2, 4]}");
        c.put("from_scratch", Map.of("transformer", "t.json", "init", "goldens"));
        TrainConfig t = RunFixtures.read(dir, "c.json", c);
        assertEquals(16, t.fromScratch().transformer().innerDim());
        assertEquals(TransformerInit.Scheme.GOLDENS, t.fromScratch().init());
        assertEquals(7, t.fromScratch().seed(), "the run's seed by default");
        c.put("from_scratch", Map.of("transformer", "t.json", "init", "xavier"));
        assertEquals(dir.resolve("c.json") + ": key \"from_scratch.init\": unknown initialisation \"xavier\" (expected pytorch or goldens)", error(c));
    }

    /** The fingerprint: defaults written out or not give the same run; a setting that changes training does not. */
    @Test
    void fingerprintIgnoresWhereToWriteButNotWhatToTrain() throws IOException {
        TrainConfig a = RunFixtures.read(dir, "a.json", minimal());
        Map<String, Object> explicit = minimal();
        RunFixtures.child(explicit, "optimizer").put("beta2", 0.999);
        explicit.put("checkpoint_every", 7L);
        explicit.put("output", "elsewhere");
        explicit.put("samples", Map.of("every", 10L, "prompts", List.of("a sign")));
        TrainConfig b = RunFixtures.read(dir, "b.json", explicit);
        assertEquals(a.fingerprintHash(), b.fingerprintHash());
        Map<String, Object> other = minimal();
        other.put("prompt_dropout", 0.1);
        TrainConfig c = RunFixtures.read(dir, "c.json", other);
        assertNotEquals(a.fingerprintHash(), c.fingerprintHash());
        assertEquals("\"prompt_dropout\" was 0.0, now 0.1", TrainConfig.difference("", a.fingerprint(), c.fingerprint()));
    }
}
