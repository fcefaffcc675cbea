package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.hub.HubTestServer;

/**
 * {@code ovis4j pull} and {@code --model NAMESPACE/NAME} end to end, as a user runs them: the command as its own process,
 * the Hub (a loopback {@link HubTestServer} serving the tiny golden checkpoint) and the cache given by the environment.
 */
class PullCliTest {
    static final String REPO = "ovis4j/tiny";

    @TempDir
    Path tmp;

    final HubTestServer server = HubTestServer.start().addRepo(REPO, CliTest.TINY);

    @AfterEach
    void stop() {
        server.close();
    }

    /** Only PATH, a home, and where the Hub and its cache are. */
    Map<String, String> env(String... more) {
        Map<String, String> env = new HashMap<>(CliProcess.onlyPath());
        env.put("HOME", tmp.toString());
        env.put("HF_HOME", tmp.resolve("hf").toString());
        env.put("HF_ENDPOINT", server.endpoint());
        for (int i = 0; i < more.length; i += 2) env.put(more[i], more[i + 1]);
        return env;
    }

    static CliTest.Result result(CliProcess.Result r) {
        return new CliTest.Result(r.code(), r.out(), r.err());
    }

    @Test
    void pullThenGenerateFromTheCacheReproducesTheGoldenImage() throws IOException {
        CliProcess.Result pull = CliProcess.java(env(), tmp, null, "pull", REPO);
        assertEquals(0, pull.code(), pull.err());
        Path snapshot = tmp.resolve("hf/hub/models--ovis4j--tiny/snapshots").resolve(server.commit(REPO));
        assertEquals(snapshot.toString(), pull.out().strip(), "stdout is the snapshot folder");
        String plan = "pulling ovis4j/tiny (commit " + server.commit(REPO).substring(0, 12) + "): " + server.files(REPO).size() + " files";
        assertTrue(pull.err().lines().anyMatch(l -> l.startsWith(plan)), pull.err());
        for (String f : server.files(REPO)) assertArrayEquals(server.file(REPO, f), Files.readAllBytes(snapshot.resolve(f)), f);

        // The golden case with the reference's own noise, the checkpoint named by its Hub id.
        Path png = tmp.resolve("apple.png"), caseDir = CliTest.TINY.resolve(CliTest.APPLE_CASE);
        CliProcess.Result gen = CliProcess.java(env(), tmp, null, "generate", "--model", REPO, "--prompt", "a red apple", "--steps", "2",
                "--guidance", "4", "--max-sequence-length", "16", "--latents", caseDir.resolve("latents.safetensors").toString(),
                "--precision", "fp32", "--output", png.toString());
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.err().contains("loading ovis4j/tiny (fp32)"), gen.err());
        assertTrue(worstDifference(ImageIO.read(png.toFile()), ImageIO.read(caseDir.resolve("image.png").toFile())) <= 1,
                "PNG differs from the reference by more than one level");

        // Offline, with the Hub gone, the cache still serves it (and --pull is then the cache too).
        server.close();
        CliProcess.Result info = CliProcess.java(env("HF_HUB_OFFLINE", "1"), tmp, null, "info", "--model", REPO, "--pull");
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().startsWith("checkpoint   " + snapshot), info.out());
    }

    @Test
    void generateWithPullFetchesWhatIsMissingFirst() {
        CliProcess.Result r = CliProcess.java(env(), tmp, null, "info", "--model", REPO + "@v1", "--pull");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("layout       diffusers"), r.out());
        assertEquals(server.commit(REPO), readRef("v1"));
    }

    @Test
    void aModelNotInTheCacheOrNotOnTheHubIsOneLine() {
        CliProcess.Result notCached = CliProcess.java(env(), tmp, null, "generate", "--model", REPO, "--prompt", "x", "--output",
                tmp.resolve("x.png").toString());
        CliTest.assertOneLineError(result(notCached), "ovis4j/tiny: no such folder, and no ovis4j/tiny in the Hub cache at "
                + tmp.resolve("hf/hub") + " (ovis4j pull ovis4j/tiny, or add --pull)");

        CliProcess.Result missing = CliProcess.java(env(), tmp, null, "pull", "ovis4j/missing");
        CliTest.assertOneLineError(result(missing), "ovis4j: ovis4j/missing: no such model on " + server.endpoint() + " (HTTP 401); "
                + "if it is private or gated, set HF_TOKEN to a token of an account that may read it");

        CliProcess.Result badEndpoint = CliProcess.java(env(), tmp, null, "pull", REPO, "--endpoint", "ftp://example.org");
        CliTest.assertOneLineError(result(badEndpoint), "--endpoint: \"ftp://example.org\" is not an http(s) URL of a Hub");
        assertEquals(List.of(), server.cdnRequests());
    }

    @Test
    void twoPullProcessesAtOnceShareEveryBlob() throws Exception {
        server.slow(40); // long transfers, so that the two processes overlap despite their start-up times
        // a thread each (the common pool may have a single one on a small machine, which would run them one after the other)
        var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        var first = pool.submit(() -> CliProcess.java(env(), tmp, null, "pull", REPO, "--include", "*.safetensors"));
        var second = pool.submit(() -> CliProcess.java(env(), tmp, null, "pull", REPO, "--include", "*.safetensors"));
        CliProcess.Result a = first.get(), b = second.get();
        pool.shutdown();
        assertEquals(0, a.code(), a.err());
        assertEquals(0, b.code(), b.err());
        assertEquals(a.out(), b.out());
        Path snapshot = Path.of(a.out().strip());
        for (String f : server.files(REPO).stream().filter(HubTestServer::isLfs).toList()) {
            assertArrayEquals(server.file(REPO, f), Files.readAllBytes(snapshot.resolve(f)), f);
            // the blob's lock made the later process wait and then find the blob (no second transfer, no mixed bytes)
            assertEquals(1, server.completedTransfers(f), f);
        }
    }

    @Test
    void aTrainingConfigNamesItsModelByHubId() throws IOException {
        Path shards = org.ovis4j.train.testing.TinyShards.write(tmp.resolve("shards"), 1, 2, 32, 32);
        Map<String, Object> c = new java.util.LinkedHashMap<>();
        c.put("model", "ovis4j/absent");
        c.put("data", Map.of("shards", shards.toString(), "width", 32L, "height", 32L, "max_sequence_length", 24L));
        c.put("steps", 1L);
        c.put("optimizer", Map.of("lr", 1e-3));
        c.put("output", "run");
        Path config = tmp.resolve("train.json");
        Files.writeString(config, org.ovis4j.core.json.Json.write(c, 2));
        CliTest.assertOneLineError(result(CliProcess.java(env(), tmp, null, "train", "--config", config.toString())),
                config + ": key \"model\" ovis4j/absent: no such folder, and no ovis4j/absent in the Hub cache at " + tmp.resolve("hf/hub"));

        c.put("model", REPO);
        Files.writeString(config, org.ovis4j.core.json.Json.write(c, 2));
        CliProcess.Result r = CliProcess.java(env(), tmp, null, "train", "--config", config.toString(), "--pull");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("checkpoint " + tmp.resolve("run/step-000001")), r.err());
        String state = Files.readString(tmp.resolve("run/step-000001/state.json"));
        assertTrue(state.contains("models--ovis4j--tiny/snapshots/" + server.commit(REPO)), "the run records the snapshot it trained from: " + state);
    }

    private String readRef(String name) {
        try {
            return Files.readString(tmp.resolve("hf/hub/models--ovis4j--tiny/refs").resolve(name));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static int worstDifference(BufferedImage a, BufferedImage b) {
        assertEquals(b.getWidth(), a.getWidth());
        assertEquals(b.getHeight(), a.getHeight());
        int worst = 0;
        for (int y = 0; y < b.getHeight(); y++)
            for (int x = 0; x < b.getWidth(); x++)
                for (int s = 0; s <= 16; s += 8)
                    worst = Math.max(worst, Math.abs((b.getRGB(x, y) >> s & 0xFF) - (a.getRGB(x, y) >> s & 0xFF)));
        return worst;
    }
}
