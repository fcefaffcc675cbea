package org.ovis4j.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.ovis4j.core.json.Json;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.text.OvisTextEncoder;
import org.ovis4j.text.Qwen3Config;
import org.ovis4j.text.Qwen3Model;
import org.ovis4j.tokenizer.OvisPrompt;
import org.ovis4j.tokenizer.Qwen3Tokenizer;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.testing.TrainingGoldens;

/**
 * {@code train text-encoder} end to end on a tiny Qwen3 with the tiny golden tokenizer (1,024 ids): the loss
 * falls when the model fits a few captions; a run stopped after a checkpoint and resumed ends with the same
 * bits as the uninterrupted one (weights, loss curve, state.json); the checkpoint's text_encoder/ folder, dropped
 * into the tiny checkpoint, loads in the unmodified pipeline (OvisImage.load) and encodes a prompt to the states the
 * trained model computes; the corpus
 * softmax trains too; config errors are one line.
 */
class TextEncoderTrainerTest {
    @TempDir Path dir;

    static final List<String> CAPTIONS = List.of("A red sign that says \"OPEN DOOR\"", "A blue poster that says \"DOOR OPEN\"",
            "A green label that says \"HELLO\"", "A white notice that says \"STOP\"", "A black cover that says \"GOOD DAY\"",
            "A yellow sign that says \"EXIT\"", "A red poster that says \"WORLD\"");

    static Path tokenizer() {
        return TrainingGoldens.tinyModel().resolve("tokenizer");
    }

    Map<String, Object> config(Path out, long steps) throws IOException {
        Path captions = dir.resolve("captions.txt");
        if (!Files.exists(captions)) Files.write(captions, CAPTIONS);
        Map<String, Object> te = new LinkedHashMap<>();
        te.put("hidden_size", 64L); // the tiny checkpoint's joint_attention_dim, so the pipeline can load the result
        te.put("intermediate_size", 48L);
        te.put("num_hidden_layers", 2L);
        te.put("num_attention_heads", 4L);
        te.put("num_key_value_heads", 2L);
        te.put("head_dim", 8L);
        te.put("vocab_size", 1024L);
        te.put("rms_norm_eps", 1e-6);
        te.put("rope_theta", 1e6);
        te.put("tie_word_embeddings", true);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("text_encoder", te);
        c.put("tokenizer", tokenizer().toString());
        c.put("data", new LinkedHashMap<>(Map.of("captions", captions.toString(), "max_sequence_length", 64L)));
        c.put("batch_size", 3L);
        c.put("steps", steps);
        c.put("optimizer", new LinkedHashMap<>(Map.of("lr", 1e-2)));
        c.put("schedule", new LinkedHashMap<>(Map.of("name", "cosine", "warmup_steps", 2L)));
        c.put("seed", 5L);
        c.put("checkpoint_every", 4L);
        c.put("output", out.toString());
        return c;
    }

    TextEncoderConfig write(String name, Map<String, Object> c) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, Json.write(c, 2));
        return TextEncoderConfig.read(f);
    }

    static final class Stop extends RuntimeException {}

    @Test
    void lossFallsAndAResumedRunEqualsTheUninterruptedOne() throws IOException {
        TextEncoderTrainer straight = TextEncoderTrainer.open(write("a.json", config(dir.resolve("a"), 12)), false, Trainer.Listener.NONE);
        straight.train();
        List<LossLog.Row> rows = straight.losses();
        assertEquals(12, rows.size());
        double first = rows.getFirst().loss(), last = rows.getLast().loss();
        assertTrue(last < 0.7 * first, "loss " + first + " -> " + last);

        TextEncoderConfig b = write("b.json", config(dir.resolve("b"), 12));
        Trainer.Listener stopAt4 = new Trainer.Listener() {
            @Override public void onCheckpoint(long step, Path d) {
                if (step == 4) throw new Stop();
            }
        };
        assertThrows(Stop.class, () -> TextEncoderTrainer.open(b, false, stopAt4).train());
        OvisException fresh = assertThrows(OvisException.class, () -> TextEncoderTrainer.open(b, false, Trainer.Listener.NONE));
        assertTrue(fresh.getMessage().contains("pass --resume"), fresh.getMessage());
        TextEncoderTrainer resumed = TextEncoderTrainer.open(b, true, Trainer.Listener.NONE);
        assertEquals(4, resumed.step());
        resumed.train();
        for (Parameter p : straight.model().parameters())
            assertArrayEquals(p.value(), resumed.model().parameters().get(p.name()).value(), p.name());
        assertEquals(Files.readString(dir.resolve("a/loss.csv")), Files.readString(dir.resolve("b/loss.csv")));
        assertEquals(Files.readString(dir.resolve("a/step-000012/state.json")).replace(dir.resolve("a").toString(), ""),
                Files.readString(dir.resolve("b/step-000012/state.json")).replace(dir.resolve("b").toString(), ""));
        assertArrayEquals(Files.readAllBytes(dir.resolve("a/step-000012/text_encoder/model.safetensors")),
                Files.readAllBytes(dir.resolve("b/step-000012/text_encoder/model.safetensors")));

        // the checkpoint's text_encoder/ is what the pipeline loads: same states as the trained model's forward
        Path te = dir.resolve("a/step-000012/text_encoder");
        Path pipe = TrainingGoldens.copyTinyModel(dir.resolve("pipe"));
        for (String f : new String[] {"config.json", "model.safetensors"})
            Files.copy(te.resolve(f), pipe.resolve("text_encoder").resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        float[] viaPipeline;
        try (org.ovis4j.pipeline.OvisImage img = org.ovis4j.pipeline.OvisImage.load(pipe, org.ovis4j.pipeline.Precision.FP32)) {
            viaPipeline = img.encodePrompt(CAPTIONS.get(0), 64, org.ovis4j.pipeline.ProgressListener.NONE);
        }
        Qwen3Config cfg = Qwen3Config.readFolder(te);
        Qwen3Tokenizer tok = Qwen3Tokenizer.load(tokenizer().resolve("tokenizer.json"));
        OvisPrompt.Encoded e = OvisPrompt.encode(tok, CAPTIONS.get(0), 64);
        try (TensorStore store = TensorStore.openFolder(te)) {
            float[] pipeline = new OvisTextEncoder(Qwen3Model.load(store, cfg, null)).encode(e.ids(), e.validTokens());
            float[] trained = straight.model().forward(new org.ovis4j.train.text.TextBatch(1, e.validTokens(),
                    java.util.Arrays.copyOf(e.ids(), e.validTokens()), new int[] {e.validTokens()})).output();
            int hd = cfg.hiddenSize(), kept = e.validTokens() - OvisTextEncoder.PROMPT_START_ROW;
            float[] want = java.util.Arrays.copyOfRange(trained, OvisTextEncoder.PROMPT_START_ROW * hd, e.validTokens() * hd);
            assertArrayEquals(want, java.util.Arrays.copyOf(pipeline, kept * hd));
            assertArrayEquals(want, java.util.Arrays.copyOf(viaPipeline, kept * hd));
        }
    }

    @Test
    void corpusSoftmaxTrainsAndLeavesOtherRowsOfTheHeadAlone() throws IOException {
        Map<String, Object> c = config(dir.resolve("c"), 8);
        c.put("softmax", "corpus");
        TextEncoderTrainer t = TextEncoderTrainer.open(write("c.json", c), false, Trainer.Listener.NONE);
        float[] before = t.model().embedding().value().clone();
        t.train();
        List<LossLog.Row> rows = t.losses();
        assertTrue(rows.getLast().loss() < rows.getFirst().loss(), rows.getFirst().loss() + " -> " + rows.getLast().loss());
        // id 1000 (a special token absent from the captions and the template) keeps its row but for weight decay
        float[] after = t.model().embedding().value();
        int hd = 64;
        double ratio = after[1000 * hd] / before[1000 * hd];
        for (int i = 0; i < hd; i++) assertEquals(ratio, after[1000 * hd + i] / before[1000 * hd + i], 1e-5);
        assertTrue(ratio < 1 && ratio > 0.99, "decay only: " + ratio);
    }

    @Test
    void configErrorsAreOneLine() throws IOException {
        Map<String, Object> c = config(dir.resolve("d"), 1);
        ((Map<String, Object>) c.get("text_encoder")).put("vocab_size", 100L);
        OvisException e = assertThrows(OvisException.class, () -> TextEncoderTrainer.open(write("d.json", c), false, Trainer.Listener.NONE));
        assertTrue(e.getMessage().contains("vocab_size 100 is smaller than the tokenizer's 1024 ids"), e.getMessage());
        Map<String, Object> c2 = config(dir.resolve("e"), 1);
        c2.put("sofmax", "full");
        e = assertThrows(OvisException.class, () -> write("e.json", c2));
        assertTrue(e.getMessage().endsWith("unknown key \"sofmax\""), e.getMessage());
        Map<String, Object> c3 = config(dir.resolve("f"), 1);
        ((Map<String, Object>) c3.get("text_encoder")).put("tie_word_embeddings", false);
        e = assertThrows(OvisException.class, () -> write("f.json", c3));
        assertTrue(e.getMessage().contains("tie_word_embeddings"), e.getMessage());
    }
}
