package org.ovis4j.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;

/**
 * A cache as Python's huggingface_hub leaves it, made here by hand (blobs, relative symlinks, refs), read through the
 * layout rules without any server; and the environment variables that say where it is.
 */
class CacheLayoutTest {
    static final String COMMIT = "3c2b5a8e1f0d4c6b9a7e5d3c1b0a9f8e7d6c5b4a";
    static final String OTHER = "aaaabbbbccccddddeeeeffff0000111122223333";

    @TempDir
    Path tmp;

    /** models--acme--painter with main and v1 at COMMIT (two files, one in a folder) and the pull request refs/pr/1 at OTHER. */
    Path pythonCache() throws IOException {
        Path cache = tmp.resolve("hf/hub"), repo = cache.resolve("models--acme--painter");
        Files.createDirectories(repo.resolve("blobs"));
        Files.writeString(repo.resolve("blobs/0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"), "{\"_class_name\": \"OvisImagePipeline\"}");
        Files.writeString(repo.resolve("blobs/" + "ab".repeat(32)), "weights");
        Path snap = Files.createDirectories(repo.resolve("snapshots").resolve(COMMIT).resolve("transformer"));
        Files.createSymbolicLink(snap.getParent().resolve("model_index.json"), Path.of("../../blobs/0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"));
        Files.createSymbolicLink(snap.resolve("diffusion_pytorch_model.safetensors"), Path.of("../../../blobs/" + "ab".repeat(32)));
        Files.createDirectories(repo.resolve("snapshots").resolve(OTHER));
        Files.createDirectories(repo.resolve("refs/refs/pr")); // refs/REVISION, and this revision is "refs/pr/1"
        Files.writeString(repo.resolve("refs/main"), COMMIT); // Python writes the bare hash
        Files.writeString(repo.resolve("refs/v1"), COMMIT + "\n");
        Files.writeString(repo.resolve("refs/refs/pr/1"), OTHER);
        return cache;
    }

    @Test
    void aPythonCacheMadeByHandIsRead() throws IOException {
        Path cache = pythonCache();
        HubSettings s = HubSettings.fromEnvironment(Map.of("HOME", tmp.toString(), "HF_HOME", tmp.resolve("hf").toString(),
                "HF_ENDPOINT", "http://127.0.0.1:9")); // nothing listens there: reading must not need it
        assertEquals(cache, s.cache());
        Path snapshot = cache.resolve("models--acme--painter/snapshots").resolve(COMMIT);
        for (String id : new String[] {"acme/painter", "acme/painter@main", "acme/painter@v1", "acme/painter@" + COMMIT}) {
            Path p = HubModels.resolve(id, null, false, s, PullListener.NONE);
            assertEquals(snapshot, p, id);
            assertEquals("{\"_class_name\": \"OvisImagePipeline\"}", Files.readString(p.resolve("model_index.json"), StandardCharsets.UTF_8));
            assertEquals("weights", Files.readString(p.resolve("transformer/diffusion_pytorch_model.safetensors"), StandardCharsets.UTF_8));
        }
        assertEquals(cache.resolve("models--acme--painter/snapshots").resolve(OTHER),
                HubModels.resolve("acme/painter@refs/pr/1", null, false, s, PullListener.NONE));
        // offline, a pull is the cache too
        try (Hub hub = new Hub(s.withOffline(true))) {
            assertEquals(snapshot, hub.pull(ModelRef.parse("acme/painter"), java.util.List.of(), PullListener.NONE));
        }

        OvisException missing = assertThrows(OvisException.class, () -> HubModels.resolve("acme/painter@v2", null, false, s, PullListener.NONE));
        assertEquals("acme/painter@v2: no such folder, and no acme/painter@v2 in the Hub cache at " + cache
                + " (ovis4j pull acme/painter --revision v2, or add --pull)", missing.getMessage());
        OvisException other = assertThrows(OvisException.class, () -> HubModels.resolve("acme/other", null, false, s, PullListener.NONE));
        assertEquals("acme/other: no such folder, and no acme/other in the Hub cache at " + cache + " (ovis4j pull acme/other, or add --pull)",
                other.getMessage());
    }

    @Test
    void anExistingFolderStaysThatFolder() throws IOException {
        pythonCache();
        Files.createDirectories(tmp.resolve("acme/painter"));
        HubSettings s = new HubSettings("http://127.0.0.1:9", tmp.resolve("hf/hub"), null, false);
        assertEquals(tmp.resolve("acme/painter"), HubModels.resolve("acme/painter", tmp, false, s, PullListener.NONE));
        assertEquals(tmp.resolve("models"), HubModels.resolve("models", tmp, false, s, PullListener.NONE), "not a Hub id: the path, for the loader to report");
        assertEquals(Path.of("/no/such/dir"), HubModels.resolve("/no/such/dir", null, false, s, PullListener.NONE));
    }

    @Test
    void theEnvironmentSaysWhereTheCacheIsAsInHuggingfaceHub() throws IOException {
        String home = tmp.toString();
        assertEquals(tmp.resolve(".cache/huggingface/hub"), HubSettings.fromEnvironment(Map.of("HOME", home)).cache());
        assertEquals(Path.of("/x/huggingface/hub"), HubSettings.fromEnvironment(Map.of("HOME", home, "XDG_CACHE_HOME", "/x")).cache());
        assertEquals(Path.of("/h/hub"), HubSettings.fromEnvironment(Map.of("HOME", home, "XDG_CACHE_HOME", "/x", "HF_HOME", "/h")).cache());
        assertEquals(Path.of("/legacy"), HubSettings.fromEnvironment(Map.of("HOME", home, "HF_HOME", "/h", "HUGGINGFACE_HUB_CACHE", "/legacy")).cache());
        assertEquals(Path.of("/c"), HubSettings.fromEnvironment(Map.of("HOME", home, "HF_HOME", "/h", "HUGGINGFACE_HUB_CACHE", "/legacy",
                "HF_HUB_CACHE", "/c")).cache());
        assertEquals(tmp.resolve("hf/hub"), HubSettings.fromEnvironment(Map.of("HOME", home, "HF_HOME", "~/hf")).cache(), "~ expanded");
        assertEquals(Path.of("/data/u/hub"), HubSettings.fromEnvironment(Map.of("HOME", home, "D", "/data", "HF_HOME", "${D}/u")).cache(),
                "variables expanded");
        assertEquals(Path.of("$NOPE/hub"), HubSettings.fromEnvironment(Map.of("HOME", home, "HF_HOME", "$NOPE")).cache(), "unknown ones kept");

        assertEquals("https://huggingface.co", HubSettings.fromEnvironment(Map.of("HOME", home)).endpoint());
        assertEquals("http://mirror:8080/hf", HubSettings.fromEnvironment(Map.of("HOME", home, "HF_ENDPOINT", "http://mirror:8080/hf//")).endpoint());
        OvisException bad = assertThrows(OvisException.class, () -> HubSettings.fromEnvironment(Map.of("HOME", home, "HF_ENDPOINT", "mirror:8080")));
        assertEquals("HF_ENDPOINT: \"mirror:8080\" is not an http(s) URL of a Hub, e.g. https://huggingface.co", bad.getMessage());

        for (String on : new String[] {"1", "ON", "yes", "True"})
            assertTrue(HubSettings.fromEnvironment(Map.of("HOME", home, "HF_HUB_OFFLINE", on)).offline(), on);
        for (String off : new String[] {"0", "false", "", "2"})
            assertFalse(HubSettings.fromEnvironment(Map.of("HOME", home, "HF_HUB_OFFLINE", off)).offline(), off);
        assertTrue(HubSettings.fromEnvironment(Map.of("HOME", home, "TRANSFORMERS_OFFLINE", "1")).offline());

        assertEquals(null, HubSettings.fromEnvironment(Map.of("HOME", home)).token());
        assertEquals("hf_env", HubSettings.fromEnvironment(Map.of("HOME", home, "HF_TOKEN", "hf_env", "HUGGING_FACE_HUB_TOKEN", "hf_old")).token());
        assertEquals("hf_old", HubSettings.fromEnvironment(Map.of("HOME", home, "HUGGING_FACE_HUB_TOKEN", "hf_old")).token());
        Files.createDirectories(tmp.resolve("hf"));
        Files.writeString(tmp.resolve("hf/token"), "hf_file\n"); // what `hf auth login` writes
        assertEquals("hf_file", HubSettings.fromEnvironment(Map.of("HOME", home, "HF_HOME", tmp.resolve("hf").toString())).token());
        assertEquals("hf_env", HubSettings.fromEnvironment(Map.of("HOME", home, "HF_HOME", tmp.resolve("hf").toString(), "HF_TOKEN", "hf_env")).token());
        assertFalse(HubSettings.fromEnvironment(Map.of("HOME", home, "HF_TOKEN", "hf_secret")).toString().contains("hf_secret"), "never printed");
    }

    @Test
    void repositoryIdsAndRevisionsFollowTheHubsRules() {
        assertEquals("models--AIDC-AI--Ovis-Image-7B", RepoId.parse("AIDC-AI/Ovis-Image-7B").cacheFolderName());
        for (String ok : new String[] {"a/b", "AIDC-AI/Ovis-Image-7B", "user_1/model.v2", "A/" + "x".repeat(96)})
            assertTrue(RepoId.isValid(ok), ok);
        for (String bad : new String[] {"b", "a/b/c", "/b", "a/", "a--b/c", "a/b..c", "-a/b", "a/b.", "a/b.git", "a/" + "x".repeat(97), "a/b c",
                "./b", "../b"})
            assertFalse(RepoId.isValid(bad), bad);

        ModelRef m = ModelRef.parse("acme/painter@refs/pr/1");
        assertEquals(new RepoId("acme", "painter"), m.repo());
        assertEquals("refs/pr/1", m.revision());
        assertEquals("main", ModelRef.parse("acme/painter").revision());
        for (String bad : new String[] {"acme/painter@", "acme/painter@../../x", "acme/painter@a/../b", "acme/painter@/x", "acme/painter@a b"})
            assertFalse(ModelRef.looksLike(bad), bad);
        assertThrows(OvisException.class, () -> ModelRef.parse("acme/painter@../../etc"));
    }

    @Test
    void snapshotPathsCannotLeaveTheSnapshot() {
        HubCache cache = new HubCache(tmp);
        RepoId repo = RepoId.parse("acme/painter");
        for (String bad : new String[] {"../x", "a/../../x", "/etc/passwd", "a//b", "", "a/./b", "a\\b"})
            assertThrows(OvisException.class, () -> cache.pointer(repo, COMMIT, bad), bad);
        for (String bad : new String[] {"../x", "a/b", "", ".."})
            assertThrows(OvisException.class, () -> cache.blob(repo, bad), bad);
        assertEquals(tmp.resolve("models--acme--painter/snapshots").resolve(COMMIT).resolve("a/b.json"), cache.pointer(repo, COMMIT, "a/b.json"));
        assertEquals(tmp.resolve(".locks/models--acme--painter/abc.lock"), cache.lockFile(repo, "abc"));
    }

    @Test
    void includePatternsMatchAsFnmatch() {
        assertTrue(FileGlob.of("*.json").matches("model_index.json"));
        assertTrue(FileGlob.of("*.json").matches("transformer/config.json"), "* crosses folders");
        assertTrue(FileGlob.of("transformer/").matches("transformer/config.json"), "a folder means what is under it");
        assertFalse(FileGlob.of("transformer/").matches("vae/config.json"));
        assertTrue(FileGlob.of("vae/diffusion_pytorch_model.?afetensors").matches("vae/diffusion_pytorch_model.safetensors"));
        assertTrue(FileGlob.of("text_encoder/model-0000[1-3]-of-00003.safetensors").matches("text_encoder/model-00002-of-00003.safetensors"));
        assertFalse(FileGlob.of("text_encoder/model-0000[!1]-of-*").matches("text_encoder/model-00001-of-00003.safetensors"));
        assertFalse(FileGlob.of("*.JSON").matches("a.json"), "case-sensitive");
        assertTrue(FileGlob.of("a+b(c)[x").matches("a+b(c)[x"), "regex characters and an unclosed [ are literal");
        assertTrue(FileGlob.of("[^a]").matches("^"), "^ in a set is a character, as in fnmatch");
    }
}
