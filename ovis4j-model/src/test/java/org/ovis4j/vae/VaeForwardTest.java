package org.ovis4j.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.ovis4j.checkpoint.BflVaeNames;
import org.ovis4j.checkpoint.StoreWeights;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.testing.Goldens;

/**
 * The tiny VAE against {@code vectors/vae_forward} (goldens README 7), loaded from the diffusers and
 * from the BFL file. Tolerance |a − b| ≤ 1e-4 + 1e-4·|b| ({@link Goldens#assertParity}): the float32
 * reference is accurate to a few 1e-6 (README 8, checked against float64), and our reductions
 * (GEMM, GroupNorm statistics in double, online softmax) are ordered differently from PyTorch's, which
 * costs a few ulps per layer through ~30 layers.
 */
class VaeForwardTest {
    private static final Map<String, Tensor> V = Goldens.read("vectors/vae_forward.safetensors");
    private static final Path TINY = Goldens.tiny();

    static VaeConfig config() {
        return VaeConfig.fromDiffusers(TINY.resolve("vae/config.json"));
    }

    /** Records every probed intermediate as CHW (copied, since some maps are updated in place later). */
    static final class Recorder implements Probe {
        final Map<String, float[]> seen = new LinkedHashMap<>();

        @Override
        public void accept(String name, FeatureMap map) {
            seen.put(name, map.toChw());
        }
    }

    /** Checks the decoder output and its intermediates; returns name → max abs error. */
    static Map<String, Double> checkDecoder(AutoencoderKL vae) {
        long[] s = V.get("in.latents").shape(); // [1, 16, 4, 6]
        int h = (int) s[2], w = (int) s[3];
        Recorder rec = new Recorder();
        FeatureMap image = vae.decodeHwc(Goldens.floats(V, "in.latents"), h, w, rec);
        assertEquals(8 * h, image.h());
        assertEquals(8 * w, image.w());
        Map<String, Double> errors = new LinkedHashMap<>();
        for (var e : rec.seen.entrySet()) {
            String golden = "mid." + e.getKey();
            assertNotNull(V.get(golden), golden);
            errors.put(golden, Goldens.assertParity(golden, Goldens.floats(V, golden), e.getValue()));
        }
        assertEquals(4 + 3 + 1, rec.seen.size());
        errors.put("out.decoded", Goldens.assertParity("out.decoded", Goldens.floats(V, "out.decoded"), image.toChw()));
        // the plain CHW entry point gives the same numbers
        assertArrayEquals(image.toChw(), vae.decode(Goldens.floats(V, "in.latents"), h, w));
        return errors;
    }

    static Map<String, Double> checkEncoder(AutoencoderKL vae) {
        long[] s = V.get("in.image").shape(); // [1, 3, 32, 48]
        Recorder rec = new Recorder();
        LatentDistribution d = vae.encode(Goldens.floats(V, "in.image"), (int) s[2], (int) s[3], rec);
        assertEquals(s[2] / 8, d.h());
        assertEquals(s[3] / 8, d.w());
        Map<String, Double> errors = new LinkedHashMap<>();
        for (var e : rec.seen.entrySet()) {
            String golden = "mid." + e.getKey();
            assertNotNull(V.get(golden), golden);
            errors.put(golden, Goldens.assertParity(golden, Goldens.floats(V, golden), e.getValue()));
        }
        assertEquals(1 + 4 + 3, rec.seen.size());
        errors.put("out.latent_mean", Goldens.assertParity("out.latent_mean", Goldens.floats(V, "out.latent_mean"), d.mean()));
        errors.put("out.latent_logvar", Goldens.assertParity("out.latent_logvar", Goldens.floats(V, "out.latent_logvar"), d.logvar()));
        errors.put("out.latent_std", Goldens.assertParity("out.latent_std", Goldens.floats(V, "out.latent_std"), d.std()));
        return errors;
    }

    static void report(String what, Map<String, Double> errors) {
        StringBuilder sb = new StringBuilder(what).append(" max abs error:");
        errors.forEach((k, v) -> sb.append(String.format("%n  %-34s %.3g", k, v)));
        System.out.println(sb);
    }

    @Test
    void diffusersDecoderMatches() {
        try (TensorStore store = TensorStore.openFolder(TINY.resolve("vae"))) {
            assertTrue(!BflVaeNames.matches(store));
            report("diffusers decoder", checkDecoder(new AutoencoderKL(config(), new StoreWeights(store))));
        }
    }

    @Test
    void diffusersEncoderMatches() {
        try (TensorStore store = TensorStore.openFolder(TINY.resolve("vae"))) {
            report("diffusers encoder", checkEncoder(new AutoencoderKL(config(), new StoreWeights(store))));
        }
    }

    @Test
    void bflLayoutGivesTheSameForward() {
        try (TensorStore store = TensorStore.open("ae", List.of(TINY.resolve("original/ae.safetensors")))) {
            assertTrue(BflVaeNames.matches(store));
            VaeConfig cfg = VaeConfig.fromAeParams(TINY.resolve("original/ae_params.json"));
            AutoencoderKL vae = AutoencoderKL.of(cfg, store, null);
            report("BFL decoder", checkDecoder(vae));
            report("BFL encoder", checkEncoder(vae));
        }
    }
}
