package org.ovis4j.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.data.render.Lang;
import org.ovis4j.eval.OcrEngine;
import org.ovis4j.eval.OcrReading;

/**
 * The learning curve ("eval"): evaluation prompts drawn at the given steps through the pipeline and
 * scored by OCR, one row per measurement in eval.csv, kept across a resume.
 */
class LearningCurveTest {
    @TempDir static Path shared;
    static Path shards;
    Path dir;

    @BeforeAll
    static void data() throws IOException {
        shards = RunFixtures.shards(shared);
    }

    @BeforeEach
    void folder(TestInfo info) throws IOException {
        dir = Files.createDirectories(shared.resolve(info.getTestMethod().orElseThrow().getName()));
    }

    /** An OCR engine that reads "OPEN" in every image it is shown, and counts them. */
    static Supplier<OcrEngine> readsOpen(AtomicInteger seen) {
        return () -> new OcrEngine() {
            @Override public String name() { return "reads OPEN"; }

            @Override public List<OcrReading> read(BufferedImage image, Lang lang) {
                seen.incrementAndGet();
                return List.of(OcrReading.ofText("fake", "OPEN"));
            }

            @Override public void close() {}
        };
    }

    private Map<String, Object> config(String name, Path prompts) {
        Map<String, Object> c = RunFixtures.config(RunFixtures.model(shared), shards, shared.resolve("cache"), dir.resolve(name));
        c.put("steps", 4L);
        c.put("checkpoint_every", 2L);
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("every", 2L);
        e.put("prompts", prompts.toString());
        e.put("steps", 2L);
        e.put("guidance", 3.0);
        c.put("eval", e);
        return c;
    }

    /** Three prompts, two of which ask for "OPEN": the fake engine's reading scores 2 of 3. */
    private Path prompts() throws IOException {
        return Files.writeString(dir.resolve("eval.jsonl"), """
                {"id": "open-red", "prompt": "a red sign that says \\"OPEN\\""}
                {"id": "shut", "prompt": "a blue sign that says \\"SHUT\\""}
                {"id": "open-blue", "prompt": "a blue poster that says \\"OPEN\\""}
                """);
    }

    @Test
    void eachMeasurementDrawsEveryPromptAndScoresItAgainstItsOwnText() throws IOException {
        AtomicInteger seen = new AtomicInteger();
        try (Trainer t = Trainer.open(RunFixtures.read(dir, "c.json", config("run", prompts())), false, Trainer.Listener.NONE,
                readsOpen(seen))) {
            t.train();
        }
        Path run = dir.resolve("run");
        List<LearningCurve.Row> rows = LearningCurve.read(run.resolve(LearningCurve.CSV), Long.MAX_VALUE);
        assertEquals(List.of(2L, 4L), rows.stream().map(LearningCurve.Row::step).toList());
        assertEquals(List.of(16L, 32L), rows.stream().map(LearningCurve.Row::samples).toList(), "steps x batch 8");
        for (LearningCurve.Row r : rows) {
            assertEquals(3, r.images());
            assertEquals(2.0 / 3, r.wordAccuracy(), 1e-12, "OPEN read where OPEN was asked for, not where SHUT was");
            assertTrue(r.trainSeconds() > 0);
        }
        assertTrue(rows.get(1).trainSeconds() > rows.get(0).trainSeconds());
        assertEquals(6, seen.get(), "3 images at each of 2 measurements");
        for (String id : List.of("open-red", "shut", "open-blue"))
            assertTrue(Files.isRegularFile(run.resolve("eval/step-000004/" + id + ".png")), id);
        assertTrue(Files.isRegularFile(run.resolve("eval/step-000004/report/report.json")));
        assertTrue(Files.size(run.resolve(LearningCurve.PLOT)) > 1000);
    }

    @Test
    void aResumedRunKeepsTheRowsUpToItsCheckpointAndItsTrainingTime() throws IOException {
        TrainConfig cfg = RunFixtures.read(dir, "c.json", config("run", prompts()));
        AtomicInteger seen = new AtomicInteger();
        try (Trainer first = Trainer.open(cfg, false, new Trainer.Listener() {
            @Override public void onMessage(String message) {
                if (message.startsWith("step 2: OCR")) throw new IllegalStateException("stop after the measurement of step 2");
            }
        }, readsOpen(seen))) {
            assertThrows(IllegalStateException.class, first::train);
        }
        Path run = dir.resolve("run");
        double secondsAt2 = TrainingTime.read(run, 2);
        assertTrue(secondsAt2 > 0);
        try (Trainer resumed = Trainer.open(cfg, true, Trainer.Listener.NONE, readsOpen(seen))) {
            resumed.train();
        }
        List<LearningCurve.Row> rows = LearningCurve.read(run.resolve(LearningCurve.CSV), Long.MAX_VALUE);
        assertEquals(List.of(2L, 4L), rows.stream().map(LearningCurve.Row::step).toList());
        assertTrue(rows.get(1).trainSeconds() > secondsAt2, "the time axis continues over the resume");
        assertEquals(secondsAt2, rows.get(0).trainSeconds(), 0.05);
    }

    /** The default engine is Tesseract: the tiny model draws noise, which it must not read as the asked-for text. */
    @Test
    void tesseractScoresNoiseAsZero() throws IOException {
        Map<String, Object> c = config("run", prompts());
        c.put("steps", 2L);
        try (Trainer t = Trainer.open(RunFixtures.read(dir, "c.json", c), false, Trainer.Listener.NONE)) {
            t.train();
        }
        List<LearningCurve.Row> rows = LearningCurve.read(dir.resolve("run").resolve(LearningCurve.CSV), Long.MAX_VALUE);
        assertEquals(1, rows.size());
        assertEquals(0.0, rows.getFirst().wordAccuracy());
    }

    @Test
    void badEvaluationPromptsStopTheRunBeforeItTrains() throws IOException {
        Path twice = Files.writeString(dir.resolve("twice.jsonl"), """
                {"id": "a", "prompt": "x \\"A\\""}
                {"id": "a", "prompt": "y \\"B\\""}
                """);
        OvisException e = assertThrows(OvisException.class, () -> Trainer.open(RunFixtures.read(dir, "c.json", config("run", twice)),
                false, Trainer.Listener.NONE, readsOpen(new AtomicInteger())));
        assertTrue(e.getMessage().contains("twice.jsonl:2: id 'a' already used"), e.getMessage());
        assertTrue(!Files.exists(dir.resolve("run/step-000002")));
        Map<String, Object> c = config("run2", dir.resolve("missing.jsonl"));
        e = assertThrows(OvisException.class, () -> Trainer.open(RunFixtures.read(dir, "c2.json", c), false, Trainer.Listener.NONE));
        assertTrue(e.getMessage().contains("missing.jsonl"), e.getMessage());
    }

    @Test
    void configKeys() throws IOException {
        Map<String, Object> c = config("run", dir.resolve("p.jsonl"));
        RunFixtures.child(c, "eval").put("limit", 5L);
        RunFixtures.child(c, "eval").put("width", 64L);
        TrainConfig cfg = RunFixtures.read(dir, "c.json", c);
        assertEquals(2, cfg.eval().every());
        assertEquals(5, cfg.eval().limit());
        assertEquals(64, cfg.eval().drawing().width());
        assertEquals(32, cfg.eval().drawing().height(), "the training size");
        String without = cfg.fingerprintHash();
        c.remove("eval");
        assertEquals(without, RunFixtures.read(dir, "c2.json", c).fingerprintHash(), "eval does not change what is trained");
        Map<String, Object> bad = config("run", dir.resolve("p.jsonl"));
        RunFixtures.child(bad, "eval").put("evry", 3L);
        OvisException e = assertThrows(OvisException.class, () -> RunFixtures.read(dir, "c3.json", bad));
        assertEquals(dir.resolve("c3.json") + ": unknown key \"eval.evry\"", e.getMessage());
        Map<String, Object> none = config("run", dir.resolve("p.jsonl"));
        RunFixtures.child(none, "eval").remove("prompts");
        e = assertThrows(OvisException.class, () -> RunFixtures.read(dir, "c4.json", none));
        assertTrue(e.getMessage().contains("eval.prompts"), e.getMessage());
    }
}
