package org.ovis4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.testing.Goldens;

class SynthesizerTest {
    static Map<String, String> shapes(Path dir) {
        Map<String, String> m = new TreeMap<>();
        try (TensorStore s = TensorStore.openFolder(dir)) {
            for (Tensor t : s.tensors().values()) m.put(t.name(), java.util.Arrays.toString(t.shape()));
        }
        return m;
    }

    @Test
    void tinySynthHasExactlyTheGoldenTensors(@TempDir Path dir) {
        Path out = dir.resolve("ckpt");
        Synthesizer.write(Synthesizer.tiny(), DType.BF16, Goldens.tiny().resolve("tokenizer"), out, 7, null);
        for (String c : new String[] {"transformer", "text_encoder", "vae"})
            assertEquals(shapes(Goldens.tiny().resolve(c)), shapes(out.resolve(c)), c);
        assertTrue(Files.isRegularFile(out.resolve("tokenizer/tokenizer.json")));
        assertTrue(Files.isRegularFile(out.resolve("model_index.json")));
        assertFalse(Files.exists(dir.resolve("ckpt.partial")));
        try (TensorStore s = TensorStore.openFolder(out.resolve("transformer"))) {
            assertEquals(DType.BF16, s.get("proj_out.weight").dtype());
            float[] norm = s.get("context_embedder_norm.weight").toFloats();
            for (float v : norm) assertTrue(v > 0.8f && v < 1.2f, "norm weights near 1");
        }
    }

    /** A text encoder smaller than the tokenizer gets an embedding row for every id the tokenizer can produce. */
    @Test
    void theEmbeddingGrowsToTheTokenizersVocabulary(@TempDir Path dir) throws Exception {
        Synthesizer.Spec tiny = Synthesizer.tiny();
        Map<String, Object> text = new java.util.LinkedHashMap<>(tiny.textEncoder());
        text.put("vocab_size", 1000L); // the golden tokenizer's ids run to 1023
        Synthesizer.Spec small = new Synthesizer.Spec("small", tiny.transformer(), text, tiny.vae(), tiny.shardBytesLimit());
        java.util.List<String> log = new java.util.ArrayList<>();
        Synthesizer.write(small, DType.F32, Goldens.tiny().resolve("tokenizer"), dir.resolve("c"), 1, log::add);
        assertTrue(log.contains("text encoder vocabulary 1000 raised to 1024, the tokenizer's (added tokens included)"), log.toString());
        assertEquals("[1024, 64]", shapes(dir.resolve("c/text_encoder")).get("embed_tokens.weight"));
        assertTrue(Files.readString(dir.resolve("c/text_encoder/config.json")).contains("\"vocab_size\": 1024"));
        assertEquals(1000L, small.textEncoder().get("vocab_size"), "the caller's spec is left as it was");
        // Large enough already: unchanged.
        assertEquals(1024L, Synthesizer.coveringVocabulary(tiny.textEncoder(), 1024, null).get("vocab_size"));
    }

    @Test
    void sameSeedSameBytes(@TempDir Path dir) throws Exception {
        Synthesizer.write(Synthesizer.tiny(), DType.F32, Goldens.tiny().resolve("tokenizer"), dir.resolve("a"), 3, null);
        Synthesizer.write(Synthesizer.tiny(), DType.F32, Goldens.tiny().resolve("tokenizer"), dir.resolve("b"), 3, null);
        Path f = Path.of("transformer/diffusion_pytorch_model.safetensors");
        assertArrayEquals(Files.readAllBytes(dir.resolve("a").resolve(f)), Files.readAllBytes(dir.resolve("b").resolve(f)));
    }

    @Test
    void sevenBillionParameters() {
        assertEquals(7_370_449_728L, Synthesizer.parameterCount(Synthesizer.ovis7B(), "transformer"));
        assertEquals(83_819_683L, Synthesizer.parameterCount(Synthesizer.ovis7B(), "vae"));
        assertEquals(1_720_574_976L, Synthesizer.parameterCount(Synthesizer.ovis7B(), "text_encoder"));
    }

    @Test
    void refusesNonEmptyOutput(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("x"), "x");
        OvisException e = assertThrows(OvisException.class,
                () -> Synthesizer.write(Synthesizer.tiny(), DType.F32, Goldens.tiny().resolve("tokenizer"), dir, 1, null));
        assertEquals(dir + ": output folder is not empty", e.getMessage());
    }
}
