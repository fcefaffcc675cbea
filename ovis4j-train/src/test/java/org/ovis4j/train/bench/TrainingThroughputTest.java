package org.ovis4j.train.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.loss.FlowMatching;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.testing.TrainingGoldens;

/**
 * The benchmark measures the step it claims to: its FLOP count agrees with one made independently from
 * the model's parameter walk (every linear weight's size times the rows it multiplies), its first loss is
 * the flow-matching loss of its batch through a freshly loaded model, the batch file it writes holds that
 * batch, and LoRA trains exactly the adapters of the attention projections. No timing is asserted.
 */
class TrainingThroughputTest {
    static final Path TINY = TrainingGoldens.tinyModel();
    static final TransformerConfig CFG = TransformerConfig.read(CheckpointFolder.detect(TINY));

    /** Rows a linear module multiplies for a batch, from where its name puts it in the model. */
    static long rows(String module, long b, long n, long t) {
        if (module.contains("norm") || module.startsWith("timestep_embedder")) return b; // modulation, time embedding
        if (module.startsWith("single_transformer_blocks")) return b * (n + t);
        if (module.startsWith("context_embedder") || module.contains("add_") || module.contains("ff_context")) return b * t;
        return b * n; // x_embedder, image stream of double blocks, proj_out
    }

    @Test
    void flopCountsAgreeWithTheParameterWalk() {
        int b = 3, n = 10, t = 7;
        long l = n + t, d = CFG.innerDim();
        TrainableTransformer model = TrainableTransformer.load(TINY);
        double linear = 0;
        for (Parameter p : model.parameters())
            if (p.shape().length == 2) {
                String module = p.name().substring(0, p.name().length() - ".weight".length());
                linear += 2.0 * rows(module, b, n, t) * p.size();
            }
        double attention = 2.0 * 2 * b * l * l * d * (CFG.numLayers() + CFG.numSingleLayers());
        StepFlops full = StepFlops.of(CFG, b, n, t, true, Set.of(), 0, model.parameters().numel(true));
        assertEquals(linear + attention, full.forward(), 1e-9 * full.forward());
        assertEquals(2 * linear + 2 * attention, full.backward(), 1e-9 * full.backward());
        assertEquals(16.0 * CFG.parameterCount(), full.optimizer(), 0);

        // a frozen base: dX only; a rank-r adapter adds r·(in + out) per row, twice in the backward
        Map<String, int[]> targets = TrainingThroughput.attentionTargets(CFG);
        double adapters = 0;
        for (var e : targets.entrySet()) adapters += 2.0 * rows(e.getKey(), b, n, t) * 4 * (e.getValue()[0] + e.getValue()[1]);
        StepFlops lora = StepFlops.of(CFG, b, n, t, false, targets.keySet(), 4, 0);
        assertEquals(linear + attention + adapters, lora.forward(), 1e-9 * lora.forward());
        assertEquals(linear + 2 * attention + 2 * adapters, lora.backward(), 1e-9 * lora.backward());
    }

    @Test
    void firstLossIsTheFlowMatchingLossOfTheWrittenBatch(@TempDir Path dir) {
        Path file = dir.resolve("batch.safetensors");
        TrainingThroughput.Options o = TrainingThroughput.Options.defaults(TINY).withBatch(2, 6, 5).withSteps(1, 2).withBatchFile(file);
        TrainingThroughput.Result r = TrainingThroughput.run(o);
        assertEquals(3, r.losses().length);
        assertEquals(2, r.forwardSeconds().length);
        assertEquals(CFG.parameterCount(), r.trained());

        TrainingThroughput.Batch batch = TrainingThroughput.Batch.random(CFG, 2, 6, 5, o.seed());
        try (TensorStore s = TensorStore.open("batch", java.util.List.of(file))) {
            assertEquals(java.util.Arrays.toString(batch.x0()), java.util.Arrays.toString(s.get("x0").toFloats()));
            assertEquals(java.util.Arrays.toString(batch.noise()), java.util.Arrays.toString(s.get("noise").toFloats()));
            assertEquals(java.util.Arrays.toString(batch.sigmas()), java.util.Arrays.toString(s.get("sigma").toFloats()));
            assertEquals(java.util.Arrays.toString(batch.imgIds()), java.util.Arrays.toString(s.get("img_ids").toFloats()));
        }
        TrainableTransformer fresh = TrainableTransformer.load(TINY);
        float[] prediction = fresh.forward(batch.input(), false).prediction();
        assertEquals(FlowMatching.loss(prediction, FlowMatching.target(batch.x0(), batch.noise())), r.losses()[0], 0);
        assertTrue(r.summary().startsWith("java train batch=2 image_tokens=6 text_tokens=5"), r.summary());
    }

    @Test
    void loraTrainsTheAttentionProjectionsAdaptersOnly() {
        TrainingThroughput.Result r = TrainingThroughput.run(TrainingThroughput.Options.defaults(TINY).withBatch(1, 4, 3)
                .withSteps(0, 1).withLora(2, 2).withRecompute(true));
        long expected = 0;
        for (int[] io : TrainingThroughput.attentionTargets(CFG).values()) expected += 2L * (io[0] + io[1]);
        assertEquals(expected, r.trained());
        assertEquals(CFG.parameterCount() + expected, r.parameters());
        assertEquals(2 * 8 + 2 * 5, TrainingThroughput.attentionTargets(CFG).size());
    }

    @Test
    void badOptionsAreOneLineErrors() {
        assertThrows(OvisException.class, () -> TrainingThroughput.parse(new String[] {"--batch", "2"}));
        assertThrows(OvisException.class, () -> TrainingThroughput.parse(new String[] {"--model", "x", "--steps", "two"}));
        assertThrows(OvisException.class, () -> TrainingThroughput.parse(new String[] {"--model", "x", "--frobnicate", "1"}));
        assertThrows(OvisException.class, () -> TrainingThroughput.Options.defaults(TINY).withSteps(1, 0));
        TrainingThroughput.Options o = TrainingThroughput.parse(new String[] {"--model", "m", "--lora-rank", "16", "--recompute"});
        assertEquals(16, o.loraRank());
        assertEquals(16.0, o.loraAlpha());
        assertTrue(o.recompute());
    }
}
