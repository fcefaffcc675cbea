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
import org.ovis4j.hub.HubSettings;

class Ovis4jModelLocationTest {
    @Test
    void aFolderIsTheCheckpoint(@TempDir Path dir) {
        assertEquals(dir, Ovis4jModelLocation.resolve(dir.toString()));
        assertEquals(dir, Ovis4jModelLocation.resolve("  " + dir + "\n"), "surrounding blanks of a property file are dropped");
    }

    /** A hub id is the snapshot its ref names in the Hugging Face cache (the layout Python writes, made by hand here). */
    @Test
    void aHubIdIsItsSnapshotInTheHuggingFaceCache(@TempDir Path dir) throws IOException {
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Path repo = dir.resolve("hub/models--AIDC-AI--Ovis-Image-7B");
        Path snapshot = Files.createDirectories(repo.resolve("snapshots/" + commit));
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), commit);
        HubSettings cache = new HubSettings(HubSettings.DEFAULT_ENDPOINT, dir.resolve("hub"), null, true);
        assertEquals(snapshot, Ovis4jModelLocation.resolve("AIDC-AI/Ovis-Image-7B", false, cache));
    }

    @Test
    void anythingElseIsAnErrorNamingTheProperty(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("model.safetensors"), "x");
        assertEquals("spring.ai.ovis4j.model=" + file + " is a file, not a checkpoint folder",
                assertThrows(OvisException.class, () -> Ovis4jModelLocation.resolve(file.toString())).getMessage());
        Path missing = dir.resolve("nothing-here");
        assertEquals("spring.ai.ovis4j.model=" + missing + ": no such folder (" + missing + ")",
                assertThrows(OvisException.class, () -> Ovis4jModelLocation.resolve(missing.toString())).getMessage());
        HubSettings empty = new HubSettings(HubSettings.DEFAULT_ENDPOINT, dir.resolve("hub"), null, true);
        String hub = assertThrows(OvisException.class, () -> Ovis4jModelLocation.resolve("AIDC-AI/Ovis-Image-7B@main", false, empty))
                .getMessage();
        assertTrue(hub.startsWith("spring.ai.ovis4j.model=AIDC-AI/Ovis-Image-7B@main: no such folder, and no "), hub);
        assertTrue(hub.contains("in the Hub cache at " + dir.resolve("hub")), hub);
        assertEquals("spring.ai.ovis4j.model is not set: give the folder of an Ovis-Image checkpoint",
                assertThrows(OvisException.class, () -> Ovis4jModelLocation.resolve(" ")).getMessage());
        assertThrows(OvisException.class, () -> Ovis4jModelLocation.resolve(null));
    }
}
