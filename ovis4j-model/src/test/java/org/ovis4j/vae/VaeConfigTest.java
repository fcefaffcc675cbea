package org.ovis4j.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.testing.Goldens;

class VaeConfigTest {
    @Test
    void readsTheDiffusersConfig() {
        VaeConfig c = VaeConfig.fromDiffusers(Goldens.tiny().resolve("vae/config.json"));
        assertArrayEquals(new int[] {8, 16, 16, 16}, c.blockOutChannels());
        assertEquals(2, c.layersPerBlock());
        assertEquals(4, c.normNumGroups());
        assertEquals(16, c.latentChannels());
        assertEquals(3, c.inChannels());
        assertEquals(3, c.outChannels());
        assertEquals(0.3611, c.scalingFactor());
        assertEquals(0.1159, c.shiftFactor());
        assertTrue(c.midBlockAddAttention());
        assertFalse(c.useQuantConv());
        assertFalse(c.usePostQuantConv());
        assertEquals(8, c.downscale());
    }

    @Test
    void aeParamsDescribeTheSameVae() {
        Path tiny = Goldens.tiny();
        assertEquals(VaeConfig.fromDiffusers(tiny.resolve("vae/config.json")), VaeConfig.fromAeParams(tiny.resolve("original/ae_params.json")));
        assertEquals(VaeConfig.flux1(), VaeConfig.fromAeParams(null));
    }

    @Test
    void missingKeyNamesFileAndKey(@TempDir Path dir) throws IOException {
        String json = Files.readString(Goldens.tiny().resolve("vae/config.json")).replace("\"latent_channels\"", "\"latent_channelz\"");
        Path file = dir.resolve("config.json");
        Files.writeString(file, json);
        OvisException e = assertThrows(OvisException.class, () -> VaeConfig.fromDiffusers(file));
        assertEquals(file + ": missing key \"latent_channels\"", e.getMessage());
    }

    @Test
    void rejectsOtherBlockTypes(@TempDir Path dir) throws IOException {
        String json = Files.readString(Goldens.tiny().resolve("vae/config.json")).replaceFirst("\"UpDecoderBlock2D\"", "\"AttnUpDecoderBlock2D\"");
        Path file = dir.resolve("config.json");
        Files.writeString(file, json);
        OvisException e = assertThrows(OvisException.class, () -> VaeConfig.fromDiffusers(file));
        assertTrue(e.getMessage().contains("up_block_types"), e.getMessage());
    }
}
