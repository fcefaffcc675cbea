package org.ovis4j.spring.ai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;

class Ovis4jModelLocationTest {
    @Test
    void aFolderIsTheCheckpoint(@TempDir Path dir) {
        assertEquals(dir, Ovis4jModelLocation.resolve(dir.toString()));
        assertEquals(dir, Ovis4jModelLocation.resolve("  " + dir + "\n"), "surrounding blanks of a property file are dropped");
    }

    @Test
    void anythingElseIsAnErrorNamingTheProperty(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("model.safetensors"), "x");
        assertEquals("spring.ai.ovis4j.model=" + file + " is a file, not a checkpoint folder",
                assertThrows(OvisException.class, () -> Ovis4jModelLocation.resolve(file.toString())).getMessage());
        Path missing = dir.resolve("nothing-here");
        assertEquals("spring.ai.ovis4j.model=" + missing + ": no such folder (" + missing + ")",
                assertThrows(OvisException.class, () -> Ovis4jModelLocation.resolve(missing.toString())).getMessage());
        String hub = assertThrows(OvisException.class, () -> Ovis4jModelLocation.resolve("AIDC-AI/Ovis-Image-7B@main")).getMessage();
        assertTrue(hub.startsWith("spring.ai.ovis4j.model=AIDC-AI/Ovis-Image-7B@main: no such folder ("), hub);
        assertTrue(hub.endsWith("Hugging Face hub ids are not resolved yet: download the model and give its folder"), hub);
        assertEquals("spring.ai.ovis4j.model is not set: give the folder of an Ovis-Image checkpoint",
                assertThrows(OvisException.class, () -> Ovis4jModelLocation.resolve(" ")).getMessage());
        assertThrows(OvisException.class, () -> Ovis4jModelLocation.resolve(null));
    }
}
