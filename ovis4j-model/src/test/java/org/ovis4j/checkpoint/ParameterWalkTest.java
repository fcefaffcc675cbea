package org.ovis4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.ParameterSpec;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.text.Qwen3Config;
import org.ovis4j.testing.Goldens;
import org.ovis4j.vae.VaeConfig;

/**
 * Each component's parameter walk against the tiny reference checkpoint written by diffusers and
 * transformers: the same names with the same shapes, nothing missing and nothing extra; and every
 * name of a walk found through the original layout's name maps.
 */
class ParameterWalkTest {
    private static final Path TINY = Goldens.tiny();

    static Map<String, String> stored(Path dir) {
        Map<String, String> m = new TreeMap<>();
        try (TensorStore s = TensorStore.openFolder(dir)) {
            for (Tensor t : s.tensors().values()) m.put(t.name(), Arrays.toString(t.shape()));
        }
        return m;
    }

    static Map<String, String> walked(List<ParameterSpec> walk) {
        Map<String, String> m = new TreeMap<>();
        for (ParameterSpec p : walk) assertEquals(null, m.put(p.name(), Arrays.toString(p.shape())), "walk lists " + p.name() + " twice");
        return m;
    }

    @Test
    void transformerWalkIsTheCheckpointsTensors() {
        List<ParameterSpec> walk = TransformerConfig.fromDiffusers(TINY.resolve("transformer/config.json")).parameters();
        assertEquals(105, walk.size());
        assertEquals(stored(TINY.resolve("transformer")), walked(walk));
    }

    @Test
    void vaeWalkIsTheCheckpointsTensors() {
        List<ParameterSpec> walk = VaeConfig.fromDiffusers(TINY.resolve("vae/config.json")).parameters();
        assertEquals(240, walk.size());
        assertEquals(stored(TINY.resolve("vae")), walked(walk));
    }

    @Test
    void textEncoderWalkIsTheCheckpointsTensors() {
        List<ParameterSpec> walk = Qwen3Config.readFolder(TINY.resolve("text_encoder")).parameters();
        assertEquals(1 + 2 * 11 + 1, walk.size());
        assertEquals(stored(TINY.resolve("text_encoder")), walked(walk));
    }

    @Test
    void kindsFollowTheModules() {
        Map<String, ParameterSpec> byName = new TreeMap<>();
        for (ParameterSpec p : TransformerConfig.fromDiffusers(TINY.resolve("transformer/config.json")).parameters()) byName.put(p.name(), p);
        assertEquals(ParameterSpec.Kind.LINEAR_WEIGHT, byName.get("transformer_blocks.0.attn.to_q.weight").kind());
        assertEquals("transformer_blocks.0.attn.to_q", byName.get("transformer_blocks.0.attn.to_q.weight").module());
        assertEquals(32, byName.get("transformer_blocks.0.attn.to_q.weight").fanIn());
        assertEquals(ParameterSpec.Kind.NORM_WEIGHT, byName.get("context_embedder_norm.weight").kind());
        assertEquals(ParameterSpec.Kind.BIAS, byName.get("proj_out.bias").kind());
        for (ParameterSpec p : Qwen3Config.readFolder(TINY.resolve("text_encoder")).parameters())
            if (p.name().equals("embed_tokens.weight")) assertEquals(ParameterSpec.Kind.EMBEDDING, p.kind());
        for (ParameterSpec p : VaeConfig.fromDiffusers(TINY.resolve("vae/config.json")).parameters()) {
            if (p.name().equals("decoder.conv_in.weight")) {
                assertEquals(ParameterSpec.Kind.CONV_WEIGHT, p.kind());
                assertEquals(16 * 3 * 3, p.fanIn());
            }
        }
    }

    @Test
    void everyWalkNameResolvesThroughTheOriginalLayoutsNameMaps() {
        TransformerConfig t = TransformerConfig.fromOriginalArgs(TINY.resolve("original/ovis_image_args.json"));
        try (TensorStore s = TensorStore.open("original", List.of(TINY.resolve("original/ovis_image.safetensors")))) {
            StoreWeights w = new StoreWeights(s, "", OriginalTransformerNames.map(t), null);
            for (ParameterSpec p : t.parameters()) {
                assertTrue(w.has(p.name()), "original transformer lacks " + p.name());
                assertEquals(Arrays.toString(p.shape()), Arrays.toString(w.get(p.name()).shape()), p.name());
            }
        }
        VaeConfig v = VaeConfig.fromAeParams(TINY.resolve("original/ae_params.json"));
        try (TensorStore s = TensorStore.open("original vae", List.of(TINY.resolve("original/ae.safetensors")))) {
            StoreWeights w = new StoreWeights(s, "", BflVaeNames.map(v), null);
            for (ParameterSpec p : v.parameters()) {
                assertTrue(w.has(p.name()), "original VAE lacks " + p.name());
                // BFL stores the mid-block attention projections as 1x1 convs [C, C, 1, 1]: the same values.
                assertEquals(p.numel(), w.get(p.name()).numel(), p.name());
            }
        }
    }

    @Test
    void sevenBillionCountsFromTheWalks() {
        assertEquals(7_370_449_728L, TransformerConfig.ovisImage7B().parameterCount());
        assertEquals(1_720_574_976L, Qwen3Config.ovis25_2B().parameterCount());
        assertEquals(83_819_683L, VaeConfig.flux1().parameterCount());
    }
}
