package org.ovis4j.dit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.ovis4j.checkpoint.StoreWeights;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.testing.Goldens;

class OvisImageTransformerTest {
    private static final Map<String, Tensor> V = Goldens.read("vectors/transformer_forward.safetensors");

    static float[] sample(float[] batch, int b, int per) {
        return Arrays.copyOfRange(batch, b * per, (b + 1) * per);
    }

    static float[] ids(int txt, int img) {
        float[] t = Goldens.floats(V, "in.txt_ids"), i = Goldens.floats(V, "in.img_ids");
        float[] out = new float[(txt + img) * 3];
        System.arraycopy(t, 0, out, 0, t.length);
        System.arraycopy(i, 0, out, t.length, i.length);
        return out;
    }

    /** Runs the golden batch through a transformer and checks out.sample for both samples. */
    static void checkForward(OvisImageTransformer model, Map<String, Tensor> expected) {
        float[] x = Goldens.floats(V, "in.hidden_states"), c = Goldens.floats(V, "in.encoder_hidden_states");
        float[] t = Goldens.floats(V, "in.timestep");
        float[] out = Goldens.floats(expected, "out.sample");
        int img = 6, txt = 5;
        for (int b = 0; b < 2; b++) {
            float[] y = model.forward(sample(x, b, img * 64), img, sample(c, b, txt * 64), txt, t[b], ids(txt, img));
            Goldens.assertParity("out.sample[" + b + "]", sample(out, b, img * 64), y);
        }
    }

    @Test
    void matchesDiffusersForward() {
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("transformer"))) {
            TransformerConfig cfg = TransformerConfig.fromDiffusers(Goldens.tiny().resolve("transformer/config.json"));
            checkForward(new OvisImageTransformer(cfg, new StoreWeights(store)), V);
        }
    }

    @Test
    void buffersKeptBetweenForwardsDoNotChangeResults() {
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("transformer"))) {
            TransformerConfig cfg = TransformerConfig.fromDiffusers(Goldens.tiny().resolve("transformer/config.json"));
            float[] x = Goldens.floats(V, "in.hidden_states"), c = Goldens.floats(V, "in.encoder_hidden_states");
            float[] t = Goldens.floats(V, "in.timestep");
            int img = 6, txt = 5;
            float[] x1 = sample(x, 1, img * 64), c0 = sample(c, 0, txt * 64), c1 = sample(c, 1, txt * 64);
            float[] fresh = new OvisImageTransformer(cfg, new StoreWeights(store)).forward(x1, img, c1, txt, t[1], ids(txt, img));
            OvisImageTransformer model = new OvisImageTransformer(cfg, new StoreWeights(store));
            TransformerWorkspace ws = new TransformerWorkspace();
            // the same shape with other values, then a batch of two (other shapes), then the case again
            model.forward(ws, sample(x, 0, img * 64), img, new float[][] {c0}, txt, t[0], ids(txt, img));
            float[][] batch = model.forward(ws, x1, img, new float[][] {c1, c0}, txt, t[1], ids(txt, img));
            org.junit.jupiter.api.Assertions.assertArrayEquals(fresh, model.forward(ws, x1, img, new float[][] {c1}, txt, t[1], ids(txt, img))[0]);
            org.junit.jupiter.api.Assertions.assertArrayEquals(fresh, model.forward(ws, x1, img, new float[][] {c1}, txt, t[1], ids(txt, img))[0]);
            ws.release();
            org.junit.jupiter.api.Assertions.assertArrayEquals(fresh, model.forward(ws, x1, img, new float[][] {c1}, txt, t[1], ids(txt, img))[0]);
            Goldens.assertParity("batch sample 0", fresh, batch[0]);
        }
    }

    @Test
    void batchWithItsOwnSigmaAndLatentsPerSampleMatchesDiffusers() {
        // The golden batch mixes timesteps (and latents, and texts): one call computes both samples.
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("transformer"))) {
            TransformerConfig cfg = TransformerConfig.fromDiffusers(Goldens.tiny().resolve("transformer/config.json"));
            OvisImageTransformer model = new OvisImageTransformer(cfg, new StoreWeights(store));
            float[] x = Goldens.floats(V, "in.hidden_states"), c = Goldens.floats(V, "in.encoder_hidden_states");
            float[] t = Goldens.floats(V, "in.timestep"), out = Goldens.floats(V, "out.sample");
            int img = 6, txt = 5;
            org.junit.jupiter.api.Assertions.assertNotEquals(t[0], t[1]);
            float[][] y = model.forward(new TransformerWorkspace(), new float[][] {sample(x, 0, img * 64), sample(x, 1, img * 64)}, img,
                    new float[][] {sample(c, 0, txt * 64), sample(c, 1, txt * 64)}, txt, t, ids(txt, img));
            for (int b = 0; b < 2; b++) {
                double worst = Goldens.assertParity("batched out.sample[" + b + "]", sample(out, b, img * 64), y[b]);
                System.out.printf("transformer: one-call batch with a σ per sample, sample %d max abs error %.2e%n", b, worst);
            }
        }
    }

    @Test
    void sharedSigmaGivenPerSampleComputesExactlyTheGuidedBatch() {
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("transformer"))) {
            TransformerConfig cfg = TransformerConfig.fromDiffusers(Goldens.tiny().resolve("transformer/config.json"));
            OvisImageTransformer model = new OvisImageTransformer(cfg, new StoreWeights(store));
            float[] x = sample(Goldens.floats(V, "in.hidden_states"), 0, 6 * 64), c = Goldens.floats(V, "in.encoder_hidden_states");
            float sigma = Goldens.floats(V, "in.timestep")[0];
            float[][] texts = {sample(c, 0, 5 * 64), sample(c, 1, 5 * 64)};
            TransformerWorkspace ws = new TransformerWorkspace();
            float[][] guided = model.forward(ws, x, 6, texts, 5, sigma, ids(5, 6));
            float[][] perSample = model.forward(ws, new float[][] {x}, 6, texts, 5, new float[] {sigma, sigma}, ids(5, 6));
            for (int b = 0; b < 2; b++) org.junit.jupiter.api.Assertions.assertArrayEquals(guided[b], perSample[b]);
            org.ovis4j.core.OvisException e = org.junit.jupiter.api.Assertions.assertThrows(org.ovis4j.core.OvisException.class,
                    () -> model.forward(ws, new float[][] {x}, 6, texts, 5, new float[] {sigma, sigma, sigma}, ids(5, 6)));
            assertEquals("transformer: 2 texts, 1 latents and 3 sigmas (give one of each per sample, or one for all)", e.getMessage());
        }
    }

    @Test
    void originalLayoutGivesTheSameForward() {
        var tiny = Goldens.tiny();
        try (TensorStore store = TensorStore.open("original", java.util.List.of(tiny.resolve("original/ovis_image.safetensors")))) {
            org.junit.jupiter.api.Assertions.assertTrue(org.ovis4j.checkpoint.OriginalTransformerNames.matches(store));
            TransformerConfig cfg = TransformerConfig.fromOriginalArgs(tiny.resolve("original/ovis_image_args.json"));
            assertEquals(TransformerConfig.fromDiffusers(tiny.resolve("transformer/config.json")).parameterCount(), cfg.parameterCount());
            var w = new StoreWeights(store, "", org.ovis4j.checkpoint.OriginalTransformerNames.map(cfg), null);
            checkForward(new OvisImageTransformer(cfg, w), V);
        }
    }

    @Test
    void timestepSinusoidMatches() {
        float[] t = Goldens.floats(V, "in.timestep");
        float[] expected = Goldens.floats(V, "mid.time_proj");
        for (int b = 0; b < 2; b++) {
            // float32 sin/cos of arguments up to 1000: torch versions differ by ~2.6e-5 here (README 8)
            Goldens.assertClose("time_proj[" + b + "]", sample(expected, b, 256), TimestepEmbedding.sinusoid(t[b]), 1e-4, 1e-4);
        }
    }

    @Test
    void ropeTableMatches() {
        float[] cos = Goldens.floats(V, "mid.pos_embed.0"), sin = Goldens.floats(V, "mid.pos_embed.1");
        PositionEmbedding pe = PositionEmbedding.of(ids(5, 6), 11, new int[] {4, 6, 6}, 10000);
        // diffusers stores each pair's value twice (interleaved); we store one per pair
        float[] c2 = new float[11 * 16], s2 = new float[11 * 16];
        for (int i = 0; i < 11 * 8; i++) {
            c2[2 * i] = c2[2 * i + 1] = pe.cos[i];
            s2[2 * i] = s2[2 * i + 1] = pe.sin[i];
        }
        Goldens.assertClose("pos_embed cos", cos, c2, 1e-6, 0);
        Goldens.assertClose("pos_embed sin", sin, s2, 1e-6, 0);
    }

    @Test
    void bf16WeightsMatchTheirOwnReference() {
        // The bf16 file holds the same weights rounded to bf16; the reference ran them in float32,
        // so widening them exactly must give the float32 tolerance again.
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("bf16/transformer"))) {
            TransformerConfig cfg = TransformerConfig.fromDiffusers(Goldens.tiny().resolve("bf16/transformer/config.json"));
            checkForward(new OvisImageTransformer(cfg, new StoreWeights(store)),
                    Goldens.read("vectors/transformer_forward_bf16w.safetensors"));
        }
    }

    @Test
    void parameterCountOf7B() {
        assertEquals(7_370_449_728L, TransformerConfig.ovisImage7B().parameterCount());
    }

    @Test
    void parameterCountOfTinyMatchesFile() {
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("transformer"))) {
            long n = store.tensors().values().stream().mapToLong(Tensor::numel).sum();
            assertEquals(n, TransformerConfig.fromDiffusers(Goldens.tiny().resolve("transformer/config.json")).parameterCount());
        }
    }
}
