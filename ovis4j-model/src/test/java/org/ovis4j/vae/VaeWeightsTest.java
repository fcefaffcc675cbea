package org.ovis4j.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.checkpoint.BflVaeNames;
import org.ovis4j.checkpoint.NameMap;
import org.ovis4j.checkpoint.StoreWeights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.testing.Goldens;

/** BFL name mapping and missing-tensor errors. */
class VaeWeightsTest {
    private static final Path TINY = Goldens.tiny();

    @Test
    void bflNamesCoverEveryDiffusersTensorOneToOne() {
        VaeConfig cfg = VaeForwardTest.config();
        NameMap map = BflVaeNames.map(cfg);
        try (TensorStore diffusers = TensorStore.openFolder(TINY.resolve("vae"));
             TensorStore bfl = TensorStore.open("ae", List.of(TINY.resolve("original/ae.safetensors")))) {
            StoreWeights mapped = new StoreWeights(bfl, "", map, null);
            Set<String> used = new HashSet<>();
            for (Tensor t : diffusers.tensors().values()) {
                assertTrue(mapped.has(t.name()), t.name());
                Tensor b = mapped.get(t.name());
                used.add(b.name());
                assertEquals(t.numel(), b.numel(), t.name());
                assertArrayEquals(t.toFloats(), b.toFloats(), t.name());
            }
            assertEquals(bfl.tensors().keySet(), used);
            assertEquals("decoder.up.0.block.0.nin_shortcut.weight",
                    map.lookup("decoder.up_blocks.3.resnets.0.conv_shortcut.weight").get(0).source());
            assertFalse(BflVaeNames.matches(diffusers));
        }
    }

    /** Writes the given file without one tensor and expects a one-line error naming it. */
    private static void expectMissing(Path source, String drop, Path dir, boolean bfl) {
        Path file = dir.resolve("vae.safetensors");
        try (TensorStore full = TensorStore.open("full", List.of(source))) {
            SafetensorsWriter wr = new SafetensorsWriter();
            for (Tensor t : full.tensors().values()) if (!t.name().equals(drop)) wr.add(t);
            wr.write(file);
        }
        try (TensorStore store = TensorStore.open(file.toString(), List.of(file))) {
            VaeConfig cfg = VaeForwardTest.config();
            OvisException e = assertThrows(OvisException.class, () -> AutoencoderKL.of(cfg, store, null));
            assertEquals(bfl, BflVaeNames.matches(store));
            assertTrue(e.getMessage().contains("\"" + drop + "\""), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void missingDiffusersTensorIsOneLineError(@TempDir Path dir) {
        expectMissing(TINY.resolve("vae/diffusion_pytorch_model.safetensors"), "decoder.up_blocks.1.resnets.2.conv2.weight", dir, false);
    }

    @Test
    void missingBflTensorIsOneLineError(@TempDir Path dir) {
        expectMissing(TINY.resolve("original/ae.safetensors"), "decoder.up.2.block.2.conv2.weight", dir, true);
    }

    @Test
    void wrongShapeIsOneLineError() {
        // a config that does not fit the weights: the first mismatching tensor is named
        VaeConfig cfg = VaeForwardTest.config();
        VaeConfig wrong = new VaeConfig(3, 3, 16, new int[] {8, 16, 16, 8}, 2, 4, 1, 0, true, false, false);
        try (TensorStore store = TensorStore.openFolder(TINY.resolve("vae"))) {
            OvisException e = assertThrows(OvisException.class, () -> new AutoencoderKL(wrong, new StoreWeights(store)));
            assertTrue(e.getMessage().startsWith("encoder.down_blocks.3.resnets.0."), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            assertTrue(cfg.channels(3) != wrong.channels(3));
        }
    }
}
