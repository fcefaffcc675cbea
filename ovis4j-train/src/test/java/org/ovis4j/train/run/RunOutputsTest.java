package org.ovis4j.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.OvisImageTransformer;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.dit.TransformerBatch;
import org.ovis4j.train.testing.TrainingGoldens;

/** What a run leaves in its folder: generate-able checkpoints, samples drawn by the pipeline, the loss curve, pruning; runs from scratch. */
class RunOutputsTest {
    @TempDir static Path shared;
    static Path shards;
    /** This test's folder, inside the class's: checkpoints link to the model copy there (links kept inside one temporary folder). */
    Path dir;

    @org.junit.jupiter.api.BeforeEach
    void folder(org.junit.jupiter.api.TestInfo info) throws IOException {
        dir = Files.createDirectories(shared.resolve(info.getTestMethod().orElseThrow().getName()));
    }

    @BeforeAll
    static void data() throws IOException {
        shards = RunFixtures.shards(shared);
    }

    private Map<String, Object> config(String name) {
        Map<String, Object> c = RunFixtures.config(RunFixtures.model(shared), shards, shared.resolve("cache"), dir.resolve(name));
        c.put("steps", 4L);
        c.put("checkpoint_every", 2L);
        RunFixtures.child(c, "optimizer").put("lr", 1e-2);
        return c;
    }

    /** A sample is what generate draws from the checkpoint folder of the same step (full fine-tuning, no EMA). */
    @Test
    void samplesAreThePipelinesImagesOfTheCheckpoint() throws IOException {
        Map<String, Object> c = config("run");
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("every", 2L);
        s.put("prompts", List.of("a red sign that says \"3\"", "a blue sign"));
        s.put("steps", 2L);
        s.put("guidance", 4.0);
        s.put("seed", 11L);
        c.put("samples", s);
        List<Path> images = new ArrayList<>();
        try (Trainer t = Trainer.open(RunFixtures.read(dir, "c.json", c), false, new Trainer.Listener() {
            @Override public void onSamples(long step, List<Path> paths) {
                images.addAll(paths);
            }
        })) {
            t.train();
        }
        Path run = dir.resolve("run");
        assertEquals(List.of(run.resolve("samples/step-000002/00.png"), run.resolve("samples/step-000002/01.png"),
                run.resolve("samples/step-000004/00.png"), run.resolve("samples/step-000004/01.png")), images);
        try (var left = Files.list(run.resolve("samples"))) {
            assertEquals(2, left.count(), "only the image folders are left");
        }
        byte[] trained, base;
        try (OvisImage m = OvisImage.load(run.resolve("step-000004"), Precision.FP32)) {
            trained = m.generate(Generation.of("a blue sign").size(32, 32).steps(2).guidance(4f).seed(12).maxSequenceLength(24)).rgb8();
        }
        try (OvisImage m = OvisImage.load(TrainingGoldens.tinyModel(), Precision.FP32)) {
            base = m.generate(Generation.of("a blue sign").size(32, 32).steps(2).guidance(4f).seed(12).maxSequenceLength(24)).rgb8();
        }
        assertArrayEquals(trained, rgb8(run.resolve("samples/step-000004/01.png")));
        assertFalse(Arrays.equals(base, trained), "four steps at lr 1e-2 change the image");
    }

    private static byte[] rgb8(Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        byte[] out = new byte[img.getWidth() * img.getHeight() * 3];
        for (int y = 0, i = 0; y < img.getHeight(); y++)
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y);
                out[i++] = (byte) (rgb >> 16);
                out[i++] = (byte) (rgb >> 8);
                out[i++] = (byte) rgb;
            }
        return out;
    }

    /**
     * LoRA samples are the pipeline's images with the run's adapters over the unchanged base, the path of
     * {@code generate --lora}: the same as loading the base with the adapters of the checkpoint's
     * {@code lora.safetensors} (diffusers LoRA format, read back with its alpha), and not the base's image.
     */
    @Test
    void loraSamplesAreThePipelinesImagesWithTheCheckpointsAdapters() throws IOException {
        Map<String, Object> c = config("lora");
        c.put("mode", "lora");
        c.put("lora", new LinkedHashMap<>(Map.of("rank", 4L, "alpha", 8L, "target_modules", List.of("to_q", "to_v", "proj_out"))));
        c.put("samples", new LinkedHashMap<>(Map.of("every", 4L, "prompts", List.of("a blue sign"), "steps", 2L, "guidance", 4.0)));
        try (Trainer t = Trainer.open(RunFixtures.read(dir, "c.json", c), false, Trainer.Listener.NONE)) {
            t.train();
        }
        Path run = dir.resolve("lora");
        List<org.ovis4j.lora.LoraAdapter> adapters = new ArrayList<>();
        for (org.ovis4j.lora.LoraFile.Adapter a : org.ovis4j.lora.LoraFile.read(run.resolve("step-000004/lora.safetensors")))
            adapters.add(a.toAdapter(1f));
        assertEquals(11, adapters.size(), "to_q and to_v of the 4 blocks, proj_out of the 2 single blocks and of the output layer");
        Generation g = Generation.of("a blue sign").size(32, 32).steps(2).guidance(4f).seed(0).maxSequenceLength(24);
        byte[] withLora, base;
        Path model = RunFixtures.model(shared);
        try (OvisImage m = OvisImage.load(model, Precision.FP32, org.ovis4j.core.kernel.ComputeContext.JAVA,
                List.of(org.ovis4j.lora.Lora.of("run", adapters)))) {
            withLora = m.generate(g).rgb8();
        }
        try (OvisImage m = OvisImage.load(model, Precision.FP32)) {
            base = m.generate(g).rgb8();
        }
        assertArrayEquals(withLora, rgb8(run.resolve("samples/step-000004/00.png")));
        assertFalse(Arrays.equals(base, withLora), "the trained adapters change the image");
    }

    @Test
    void lossCurveAndPruning() throws IOException {
        Map<String, Object> c = config("run");
        c.put("checkpoint_every", 1L);
        c.put("keep_last", 2L);
        try (Trainer t = Trainer.open(RunFixtures.read(dir, "c.json", c), false, Trainer.Listener.NONE)) {
            t.train();
        }
        Path run = dir.resolve("run");
        List<String> csv = Files.readAllLines(run.resolve("loss.csv"));
        assertEquals(5, csv.size());
        assertEquals("step,loss,lr,grad_norm", csv.get(0));
        assertTrue(csv.get(4).startsWith("4,"));
        BufferedImage png = ImageIO.read(run.resolve("loss.png").toFile());
        assertEquals(LossPlot.WIDTH, png.getWidth());
        assertEquals(LossPlot.HEIGHT, png.getHeight());
        try (var names = Files.list(run)) {
            assertEquals(List.of("latest", "loss.csv", "loss.png", "step-000003", "step-000004", "time.csv"),
                    names.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    /** A new transformer of its own size, seeded: trains, and its checkpoint (with its config) resumes and generates. */
    @Test
    void fromScratch() throws IOException {
        Map<String, Object> c = config("scratch");
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("num_layers", 1L);
        t.put("num_single_layers", 1L);
        t.put("attention_head_dim", 8L);
        t.put("num_attention_heads", 2L);
        t.put("joint_attention_dim", 64L);
        t.put("in_channels", 64L);
        t.put("axes_dims_rope", List.of(2L, 2L, 4L));
        c.put("from_scratch", new LinkedHashMap<>(Map.of("transformer", t, "init", "pytorch")));
        TrainConfig cfg = RunFixtures.read(dir, "c.json", c);
        c.put("steps", 6L);
        TrainConfig longer = RunFixtures.read(dir, "longer.json", c);
        try (Trainer tr = Trainer.open(cfg, false, Trainer.Listener.NONE)) {
            assertEquals(16, tr.model().config().innerDim());
            tr.train();
        }
        Path last = dir.resolve("scratch/step-000004");
        assertEquals(16, org.ovis4j.dit.TransformerConfig.fromDiffusers(last.resolve("transformer/config.json")).innerDim());
        try (OvisImage m = OvisImage.load(last, Precision.FP32)) {
            assertEquals(32, m.generate(Generation.of("x").size(32, 32).steps(1).guidance(1f).maxSequenceLength(24)).width());
        }
        // a longer run is another run: "steps" is part of what is trained (the schedule depends on it)
        var e = org.junit.jupiter.api.Assertions.assertThrows(org.ovis4j.core.OvisException.class, () -> Trainer.open(longer, true, Trainer.Listener.NONE));
        assertTrue(e.getMessage().contains("(\"steps\" was 4, now 6)"), e.getMessage());
        try (Trainer again = Trainer.open(cfg, true, Trainer.Listener.NONE)) {
            assertEquals(4, again.step());
            again.train(); // complete: nothing to do
            assertEquals(4, again.step());
        }
    }
}
