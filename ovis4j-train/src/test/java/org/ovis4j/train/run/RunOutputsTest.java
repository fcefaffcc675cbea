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
     * LoRA samples use the adapters merged into the base (W + scale·B·A): the inference transformer with
     * the merged weights predicts what the training transformer with the adapters does. The two differ
     * only by rounding (the merge rounds the product into W), so 1e-5 of the output's scale.
     */
    @Test
    void loraSamplesUseTheMergedAdapters() throws IOException {
        Map<String, Object> c = config("lora");
        c.put("mode", "lora");
        c.put("lora", new LinkedHashMap<>(Map.of("rank", 4L, "alpha", 8L, "target_modules", List.of("to_q", "to_v", "proj_out"))));
        try (Trainer t = Trainer.open(RunFixtures.read(dir, "c.json", c), false, Trainer.Listener.NONE)) {
            t.train();
            Map<String, Tensor> merged = new HashMap<>();
            for (TransformerFolder.Values v : t.sampleWeights()) merged.put(v.name(), Tensor.ofFloats(v.name(), v.shape(), v.values(), Arena.ofAuto()));
            assertEquals(105, merged.size());
            OvisImageTransformer inference = new OvisImageTransformer(t.model().config(), weights(merged));
            var g = TrainingGoldens.read("flow_matching.safetensors");
            float[] x = TrainingGoldens.floats(g, "in.x0"), text = TrainingGoldens.floats(g, "in.prompt_embeds");
            float[] txt = TrainingGoldens.floats(g, "in.txt_ids"), img = TrainingGoldens.floats(g, "in.img_ids");
            float[] ids = new float[txt.length + img.length];
            System.arraycopy(txt, 0, ids, 0, txt.length);
            System.arraycopy(img, 0, ids, txt.length, img.length);
            TrainableTransformer trained = t.model();
            float[] want = trained.forward(new TransformerBatch(1, 6, 5, Arrays.copyOf(x, 384), Arrays.copyOf(text, 320), new float[] {0.4f},
                    txt, img), false).prediction();
            float[] got = inference.forward(Arrays.copyOf(x, 384), 6, Arrays.copyOf(text, 320), 5, 0.4f, ids);
            float[] base = TrainableTransformer.load(TrainingGoldens.tinyModel()).forward(new TransformerBatch(1, 6, 5, Arrays.copyOf(x, 384),
                    Arrays.copyOf(text, 320), new float[] {0.4f}, txt, img), false).prediction();
            double scale = TrainingGoldens.maxAbs(want);
            TrainingGoldens.assertScaled("merged LoRA forward", want, got, 1e-5, 0);
            assertTrue(TrainingGoldens.maxAbs(diff(want, base)) > 1e-3 * scale, "the adapters changed the model");
        }
    }

    private static float[] diff(float[] a, float[] b) {
        float[] d = new float[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i] - b[i];
        return d;
    }

    private static Weights weights(Map<String, Tensor> m) {
        return new Weights() {
            @Override public Tensor get(String name) { return m.get(name); }
            @Override public Tensor rows(String name, long from, long to) { return m.get(name).rows(from, to); }
            @Override public boolean has(String name) { return m.containsKey(name); }
            @Override public String origin() { return "merged"; }
        };
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
            assertEquals(List.of("latest", "loss.csv", "loss.png", "step-000003", "step-000004"),
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
