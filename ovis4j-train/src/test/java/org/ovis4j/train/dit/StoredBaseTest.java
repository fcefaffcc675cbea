package org.ovis4j.train.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ovis4j.train.testing.TrainingGoldens.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.train.loss.FlowMatching;
import org.ovis4j.train.param.Parameter;

/**
 * A transformer whose checkpoint is frozen (the base under LoRA) reads its linear weights in place from the
 * mapped checkpoint instead of copying them to float32, and computes exactly what a model holding float32
 * copies of the same values computes: the prediction and the input gradients bit for bit, with a float32
 * checkpoint (the tiny goldens) and with a bf16 one (the same weights written in bf16). The bf16 model stays
 * within bf16 rounding of the float32 one: the goldens' README records bf16 weights moving the tiny model's
 * forward by up to 1.4e-2 (vectors/transformer_forward_bf16w); 3e-2 of the output's scale allows for the
 * batch here, while reading the stored bits wrongly (a dtype or an offset) moves the output by O(1).
 */
class StoredBaseTest {
    static final Map<String, Tensor> G = read("flow_matching.safetensors");

    static TransformerBatch batch() {
        float[] xt = FlowMatching.interpolate(floats(G, "in.x0"), floats(G, "in.noise"), floats(G, "in.sigma"));
        return new TransformerBatch(2, 6, 5, xt, floats(G, "in.prompt_embeds"), floats(G, "in.sigma"), floats(G, "in.txt_ids"),
                floats(G, "in.img_ids"));
    }

    static final float[] TARGET = FlowMatching.target(floats(G, "in.x0"), floats(G, "in.noise"));

    @Test
    void frozenFloat32CheckpointInPlaceGivesTheFloatCopiesBits() {
        TrainableTransformer copies = TrainableTransformer.load(tinyModel());
        try (TrainableTransformer stored = TrainableTransformer.load(tinyModel(), false, Adapters.NONE)) {
            assertEquals(copies.parameters().count(), stored.parameters().count());
            assertEquals(copies.parameters().numel(false), stored.parameters().numel(false));
            assertEquals(0, stored.parameters().trainable().size());
            int inPlace = 0;
            for (Parameter p : stored.parameters())
                if (p.shape().length == 2) {
                    assertNotNull(p.stored(), p.name() + " should be read in place");
                    inPlace++;
                }
            assertEquals(46, inPlace); // every linear weight of the tiny model: 2 double blocks x 14, 2 single x 6, 6 more
            assertSamePassBits(copies, stored);
        }
    }

    @Test
    void frozenBf16CheckpointInPlaceGivesTheFloatCopiesBitsAndStaysNearFloat32(@TempDir Path dir) throws IOException {
        Path bf16 = bf16Copy(dir);
        TrainableTransformer copies = TrainableTransformer.load(bf16), f32 = TrainableTransformer.load(tinyModel());
        try (TrainableTransformer stored = TrainableTransformer.load(bf16, false, Adapters.NONE)) {
            assertEquals(DType.BF16, stored.parameters().get("transformer_blocks.0.attn.to_q.weight").stored().dtype());
            assertSamePassBits(copies, stored);
            float[] a = stored.forward(batch(), false).prediction(), b = f32.forward(batch(), false).prediction();
            double scale = maxAbs(b), worst = 0;
            for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
            System.out.printf("bf16 weights in place vs float32: max |Δ prediction| = %.3g of scale %.3g%n", worst, scale);
            assertTrue(worst <= 3e-2 * scale, "bf16 prediction differs from float32 by " + worst + " (scale " + scale + ")");
        }
    }

    @Test
    void storedParametersAreWrittenWithTheirValues(@TempDir Path dir) throws IOException {
        TrainableTransformer copies = TrainableTransformer.load(tinyModel());
        try (TrainableTransformer stored = TrainableTransformer.load(tinyModel(), false, Adapters.NONE)) {
            copies.parameters().write(dir.resolve("a.safetensors"), DType.F32, null);
            stored.parameters().write(dir.resolve("b.safetensors"), DType.F32, null);
            assertEquals(-1, Files.mismatch(dir.resolve("a.safetensors"), dir.resolve("b.safetensors")));
        }
    }

    private static void assertSamePassBits(TrainableTransformer copies, TrainableTransformer stored) {
        TransformerPass a = copies.forward(batch(), false), b = stored.forward(batch(), false);
        assertArrayEquals(a.prediction(), b.prediction(), "prediction");
        InputGradients ga = copies.backward(a, FlowMatching.lossGradient(a.prediction(), TARGET));
        InputGradients gb = stored.backward(b, FlowMatching.lossGradient(b.prediction(), TARGET));
        assertArrayEquals(ga.latents(), gb.latents(), "d latents");
        assertArrayEquals(ga.text(), gb.text(), "d text");
    }

    /** The tiny transformer with every parameter written in bf16 (a diffusers folder with only the transformer). */
    private static Path bf16Copy(Path dir) throws IOException {
        Path out = dir.resolve("tiny-bf16");
        Files.createDirectories(out.resolve("transformer"));
        Files.copy(tinyModel().resolve("model_index.json"), out.resolve("model_index.json"));
        Files.copy(tinyModel().resolve("transformer/config.json"), out.resolve("transformer/config.json"));
        TrainableTransformer.load(tinyModel()).parameters()
                .write(out.resolve("transformer/diffusion_pytorch_model.safetensors"), DType.BF16, null);
        return out;
    }
}
