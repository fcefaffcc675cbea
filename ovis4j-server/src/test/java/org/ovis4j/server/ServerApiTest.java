package org.ovis4j.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.json.Json;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;

/** The HTTP API on the tiny model: each endpoint, each error code, the queue's limits and the job's life. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ServerApiTest {
    @TempDir
    static Path tmp;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.startLoaded(TestServer.options(tmp.resolve("data"), 8, null), TestServer::tinyGenerator);
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    static Map<String, Object> small(String prompt) {
        return Map.of("prompt", prompt, "size", "64x64", "steps", 2L, "seed", 11L);
    }

    @Test
    void healthAndModels() throws Exception {
        var h = server.get("/health");
        assertEquals(200, h.status());
        assertEquals("ok", h.json().get("status"));
        var m = server.get("/v1/models");
        assertEquals(200, m.status());
        List<?> data = (List<?>) m.json().get("data");
        assertEquals("ovis_image_tiny", ((Map<?, ?>) data.get(0)).get("id"));
        assertEquals(200, server.get("/v1/models/ovis_image_tiny").status());
        assertEquals(404, server.get("/v1/models/dall-e-3").status());
    }

    /** The synchronous OpenAI call returns the same pixels as the pipeline run directly, with the parameters in the PNG. */
    @Test
    void openAiGenerationsMatchesThePipeline() throws Exception {
        var r = server.post("/v1/images/generations", Map.of("prompt", "a red \"OPEN\" sign", "size", "64x48", "steps", 3L, "seed", 5L,
                "guidance", 3.5, "negative_prompt", "blur", "n", 2L));
        assertEquals(200, r.status(), r.text());
        List<?> data = (List<?>) r.json().get("data");
        assertEquals(2, data.size());
        assertNotNull(r.json().get("created"));
        try (OvisImage model = OvisImage.load(TestServer.tinyModel(), Precision.BF16)) {
            for (int k = 0; k < 2; k++) {
                Map<?, ?> d = (Map<?, ?>) data.get(k);
                assertEquals("a red \"OPEN\" sign", d.get("revised_prompt"));
                byte[] png = Base64.getDecoder().decode((String) d.get("b64_json"));
                var image = model.generate(Generation.of("a red \"OPEN\" sign").negativePrompt("blur").size(64, 48).steps(3).guidance(3.5f).seed(5 + k));
                var decoded = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png));
                assertEquals(64, decoded.getWidth());
                assertEquals(48, decoded.getHeight());
                for (int y = 0; y < 48; y += 7)
                    for (int x = 0; x < 64; x += 5) assertEquals(image.toBufferedImage().getRGB(x, y), decoded.getRGB(x, y), "pixel " + x + "," + y);
                String text = new String(png, StandardCharsets.ISO_8859_1);
                assertTrue(text.contains("iTXt") && text.contains("seed") && text.contains(Long.toString(5 + k)), "parameter chunks");
            }
        }
    }

    @Test
    void urlResponseFormatPointsAtThePng() throws Exception {
        var r = server.post("/v1/images/generations", Map.of("prompt", "x", "size", "32x32", "steps", 1L, "response_format", "url"));
        assertEquals(200, r.status(), r.text());
        String url = (String) ((Map<?, ?>) ((List<?>) r.json().get("data")).get(0)).get("url");
        assertTrue(url.startsWith(server.server.url().replace("127.0.0.1", "127.0.0.1") + "/v1/images/"), url);
        var png = server.send(HttpRequest.newBuilder(java.net.URI.create(url)).GET().build());
        assertEquals(200, png.status());
        assertEquals("image/png", png.raw().headers().firstValue("Content-Type").orElseThrow());
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png.raw().body(), 4));
    }

    @Test
    void asyncJobCompletesWithImageUrls() throws Exception {
        var r = server.post("/v1/jobs", small("async"));
        assertEquals(202, r.status(), r.text());
        String id = (String) r.json().get("id");
        assertTrue(id.matches("job_[0-9a-f]{24}"));
        assertTrue(((String) r.json().get("poll_url")).endsWith("/v1/jobs/" + id));
        var done = server.awaitFinal(id);
        assertEquals("completed", done.get("status"), done.toString());
        Map<?, ?> image = (Map<?, ?>) ((List<?>) done.get("images")).get(0);
        assertEquals(200, server.get("/v1/images/" + image.get("id") + ".png").status());
        var listed = server.get("/v1/jobs?limit=1000");
        assertTrue(((List<?>) listed.json().get("data")).stream().anyMatch(j -> id.equals(((Map<?, ?>) j).get("id"))));
    }

    /** One progress event per denoising step, in order, then the result. */
    @Test
    void eventStreamHasEveryStepThenTheResult() throws Exception {
        var r = server.post("/v1/jobs", Map.of("prompt", "events", "size", "64x64", "steps", 6L, "seed", 1L));
        String id = (String) r.json().get("id");
        HttpResponse<java.io.InputStream> res = server.client.send(server.builder("/v1/jobs/" + id + "/events").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals("text/event-stream", res.headers().firstValue("Content-Type").orElseThrow());
        List<String> events = new ArrayList<>();
        List<Map<?, ?>> data = new ArrayList<>();
        try (var in = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
            String event = null;
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("event: ")) event = line.substring(7);
                else if (line.startsWith("data: ")) {
                    events.add(event);
                    data.add((Map<?, ?>) Json.parse(line.substring(6)));
                }
            }
        }
        assertEquals("status", events.getFirst());
        assertEquals("completed", events.getLast(), events.toString());
        List<Long> steps = new ArrayList<>();
        for (int k = 0; k < events.size(); k++) if (events.get(k).equals("progress")) steps.add((Long) data.get(k).get("step"));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L), steps);
        assertNotNull(data.getLast().get("images"));
        // A finished job's stream is its final event at once.
        var again = server.get("/v1/jobs/" + id + "/events");
        assertTrue(again.text().contains("event: completed"), again.text());
    }

    @Test
    void errorsAreJsonWithStableCodes() throws Exception {
        assertError(server.post("/v1/jobs", "{\"prompt\": \"x\", \"size\": \"65x64\"}"), 400, "invalid_value", "size");
        assertError(server.post("/v1/jobs", "{\"prompt\": \"x\", \"size\": \"512x512\"}"), 400, "invalid_value", "size");
        assertError(server.post("/v1/jobs", "{\"prompt\": \"x\", \"steps\": 21}"), 400, "invalid_value", "steps");
        assertError(server.post("/v1/jobs", "{\"prompt\": \"x\", \"steps\": \"4\"}"), 400, "invalid_value", "steps");
        assertError(server.post("/v1/jobs", "{\"prompt\": \"x\", \"seed\": 1e300}"), 400, "invalid_value", "seed");
        assertError(server.post("/v1/jobs", "{\"prompt\": \"x\", \"n\": 0}"), 400, "invalid_value", "n");
        assertError(server.post("/v1/jobs", "{\"prompt\": \"x\", \"guidance\": -1}"), 400, "invalid_value", "guidance");
        assertError(server.post("/v1/jobs", "{\"prompt\": \"x\", \"model\": \"dall-e-3\"}"), 400, "model_not_found", "model");
        assertError(server.post("/v1/jobs", "{\"prompt\": \"x\", \"response_format\": \"jpg\"}"), 400, "invalid_value", "response_format");
        assertError(server.post("/v1/jobs", "{\"prompt\": \"x\", \"negative_promt\": \"y\"}"), 400, "unknown_parameter", "negative_promt");
        assertError(server.post("/v1/jobs", "{\"size\": \"64x64\"}"), 400, "missing_parameter", "prompt");
        assertError(server.post("/v1/jobs", "{\"prompt\": \"\\ud800\"}"), 400, "invalid_value", "prompt");
        assertError(server.post("/v1/jobs", "{\"prompt\": "), 400, "invalid_json", null);
        assertError(server.post("/v1/jobs", "[1]"), 400, "invalid_json", null);
        assertError(server.post("/v1/jobs", "[".repeat(100_000)), 400, "invalid_json", null);
        assertError(server.send(server.builder("/v1/jobs").POST(HttpRequest.BodyPublishers.ofByteArray(new byte[] {'{', '"', (byte) 0xC3, '"'})).build()),
                400, "invalid_utf8", null);
        assertError(server.send(server.builder("/v1/jobs").header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{}")).build()),
                415, "unsupported_media_type", null);
        assertError(server.post("/v1/jobs", "{\"prompt\": \"" + "a".repeat(2 << 20) + "\"}"), 413, "body_too_large", null);
        assertError(server.get("/v1/jobs/job_000000000000000000000000"), 404, "job_not_found", null);
        assertError(server.get("/v1/jobs/nonsense"), 404, "job_not_found", null);
        assertError(server.get("/v1/images/job_000000000000000000000000-0.png"), 404, "image_not_found", null);
        assertError(server.get("/nothing/here"), 404, "not_found", null);
        var r = server.send(server.builder("/v1/jobs").DELETE().build());
        assertError(r, 405, "method_not_allowed", null);
        assertEquals("POST, GET", r.raw().headers().firstValue("Allow").orElseThrow());
        assertTrue(server.get("/metrics").text().contains("ovis4j_http_responses_total{code=\"400\"}"));
    }

    static void assertError(TestServer.Response r, int status, String code, String param) {
        assertEquals(status, r.status(), r.text());
        assertNotNull(r.json(), "an error is JSON: " + r.text());
        assertEquals(code, r.error().get("code"), r.text());
        assertEquals(param, r.error().get("param"), r.text());
        String message = (String) r.error().get("message");
        assertFalse(message.isBlank() || message.contains("\n") || message.length() > 400, message);
    }

    @Test
    void metricsAreInPrometheusTextFormat() throws Exception {
        server.post("/v1/images/generations", small("metrics"));
        var r = server.get("/metrics");
        assertEquals(200, r.status());
        assertTrue(r.raw().headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain; version=0.0.4"));
        for (String line : r.text().split("\n")) {
            if (line.startsWith("#")) assertTrue(line.matches("# (HELP|TYPE) ovis4j_\\w+ .+"), line);
            else assertTrue(line.matches("ovis4j_\\w+(\\{\\w+=\"[^\"]*\"\\})? -?[0-9.eE+-]+"), line);
        }
        for (String name : new String[] {"ovis4j_queue_length ", "ovis4j_jobs{state=\"completed\"} ", "ovis4j_step_seconds_sum ",
                "ovis4j_step_seconds_count ", "ovis4j_images_total ", "ovis4j_images_per_second "})
            assertTrue(r.text().contains(name), name);
        assertFalse(r.text().contains("ovis4j_images_total 0\n"));
    }

    @Test
    void pageAndItsFilesComeFromTheJar() throws Exception {
        var page = server.get("/");
        assertEquals(200, page.status());
        assertTrue(page.text().contains("<script src=\"/app.js\">"));
        assertFalse(page.text().contains("http://") || page.text().contains("https://"), "no external resources");
        assertEquals(200, server.get("/app.js").status());
        assertEquals(200, server.get("/style.css").status());
        assertTrue(page.raw().headers().firstValue("Content-Security-Policy").orElseThrow().contains("default-src 'self'"));
    }

    /** With a gate holding the worker: positions, 429 exactly when full, cancel of queued and running jobs. */
    @Test
    void queueLimitPositionsAndCancel(@TempDir Path data) throws Exception {
        GatedGenerator gate = new GatedGenerator();
        try (TestServer s = TestServer.startLoaded(TestServer.options(data, 3, null), () -> gate); GatedGenerator g = gate) {
            String running = (String) s.post("/v1/jobs", small("running")).json().get("id");
            gate.awaitHeld();
            List<String> queued = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
                var r = s.post("/v1/jobs", small("queued " + k));
                assertEquals(202, r.status(), r.text());
                assertEquals((long) k + 1, r.json().get("position"));
                queued.add((String) r.json().get("id"));
            }
            var full = s.post("/v1/jobs", small("one too many"));
            assertError(full, 429, "queue_full", null);
            assertTrue(Long.parseLong(full.raw().headers().firstValue("Retry-After").orElseThrow()) >= 1);
            assertError(s.post("/v1/images/generations", small("sync too")), 429, "queue_full", null);
            assertEquals("running", s.get("/v1/jobs/" + running).json().get("status"));

            var c = s.post("/v1/jobs/" + queued.get(0) + "/cancel", Map.of());
            assertEquals(200, c.status(), c.text());
            assertEquals("cancelled", c.json().get("status"));
            assertEquals(1L, s.get("/v1/jobs/" + queued.get(1)).json().get("position"));
            assertError(s.post("/v1/jobs/" + queued.get(0) + "/cancel", Map.of()), 409, "job_final", null);
            // A place freed: one more is accepted, at the end.
            var more = s.post("/v1/jobs", small("after cancel"));
            assertEquals(202, more.status());
            assertEquals(3L, more.json().get("position"));

            assertEquals(200, s.post("/v1/jobs/" + running + "/cancel", Map.of()).status());
            gate.permits.release(100);
            assertEquals("cancelled", s.awaitFinal(running).get("status"));
            assertEquals("completed", s.awaitFinal(queued.get(1)).get("status"));
            assertEquals("completed", s.awaitFinal((String) more.json().get("id")).get("status"));
            String metrics = s.get("/metrics").text();
            assertTrue(metrics.contains("ovis4j_queue_full_total 2"), metrics);
            assertTrue(metrics.contains("ovis4j_jobs{state=\"cancelled\"} 2"), metrics);
        }
    }

    @Test
    void apiKeyIsRequiredWhenSet(@TempDir Path data) throws Exception {
        try (TestServer s = TestServer.startLoaded(TestServer.options(data, 3, "s3cret"), TestServer::tinyGenerator)) {
            assertEquals(200, s.get("/v1/models").status());
            for (String auth : new String[] {null, "Bearer wrong", "Bearer s3cre", "Basic s3cret", "Bearer s3cret2"}) {
                var b = HttpRequest.newBuilder(s.uri("/v1/models")).GET();
                if (auth != null) b.header("Authorization", auth);
                var r = s.send(b.build());
                assertError(r, 401, "unauthorized", null);
                assertEquals("Bearer", r.raw().headers().firstValue("WWW-Authenticate").orElseThrow());
            }
            // The page and the health check stay open, so a browser can load the page and ask for the key.
            assertEquals(200, s.send(HttpRequest.newBuilder(s.uri("/")).GET().build()).status());
            var h = s.send(HttpRequest.newBuilder(s.uri("/health")).GET().build());
            assertEquals(true, h.json().get("api_key_required"));
            assertEquals(401, s.send(HttpRequest.newBuilder(s.uri("/metrics")).GET().build()).status());
        }
    }

    @Test
    void unavailableWhileTheModelLoads(@TempDir Path data) throws Exception {
        CountDownLatch loaded = new CountDownLatch(1);
        try (TestServer s = TestServer.start(TestServer.options(data, 3, null), () -> {
            loaded.await();
            return TestServer.tinyGenerator();
        })) {
            var h = s.get("/health");
            assertEquals(503, h.status());
            assertEquals("loading", h.json().get("status"));
            var r = s.post("/v1/jobs", small("too early"));
            assertError(r, 503, "model_loading", null);
            assertTrue(r.raw().headers().firstValue("Retry-After").isPresent());
            assertError(s.post("/v1/jobs", "{\"prompt\": \"x\", \"size\": 1}"), 400, "invalid_value", "size"); // a bad request is still a 400
            loaded.countDown();
            assertTrue(s.server.awaitLoaded());
            assertEquals(202, s.post("/v1/jobs", small("now")).status());
        }
    }

    @Test
    void modelThatFailsToLoadIsReported(@TempDir Path data) throws Exception {
        try (TestServer s = TestServer.start(TestServer.options(data, 3, null),
                () -> new OvisImageGenerator(OvisImage.load(data.resolve("no-such-model"), Precision.BF16)))) {
            assertFalse(s.server.awaitLoaded());
            var h = s.get("/health");
            assertEquals(503, h.status());
            assertEquals("failed", h.json().get("status"));
            assertError(s.post("/v1/jobs", small("x")), 503, "model_failed", null);
        }
    }

    /** SIGTERM's path in-process: queued jobs stay on disk, a new server on the same folder runs them under the same ids. */
    @Test
    void gracefulStopKeepsQueuedJobsForTheNextStart(@TempDir Path data) throws Exception {
        GatedGenerator gate = new GatedGenerator();
        List<String> ids = new ArrayList<>();
        TestServer first = TestServer.startLoaded(new ServerOptions("127.0.0.1", 0, null, 8, 256, 256, 20, data, 1, java.time.Duration.ZERO), () -> gate);
        for (int k = 0; k < 4; k++) ids.add((String) first.post("/v1/jobs", small("kept " + k)).json().get("id"));
        gate.awaitHeld();
        // Zero grace: the running job is asked to stop at once and goes back to the queue.
        Thread stopper = Thread.ofPlatform().start(() -> {
            try {
                first.close();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        while (!gate.held.isCancelled()) Thread.sleep(5);
        gate.permits.release(100);
        stopper.join();
        assertEquals(503, 0 + statusOrRefused(first));
        for (String id : ids) {
            Map<?, ?> onDisk = (Map<?, ?>) Json.parse(Files.readString(data.resolve("jobs/" + id + ".json")));
            assertEquals("queued", onDisk.get("state"), id);
        }
        try (TestServer second = TestServer.startLoaded(TestServer.options(data, 8, null), TestServer::tinyGenerator)) {
            assertTrue(second.log().contains("4 queued resumed"), second.log());
            for (String id : ids) assertEquals("completed", second.awaitFinal(id).get("status"), id);
        }
    }

    /** After the server stopped, a request either finds no listener or a 503: never a new job. */
    private static int statusOrRefused(TestServer stopped) {
        try {
            return stopped.post("/v1/jobs", small("after stop")).status();
        } catch (Exception e) {
            return 503;
        }
    }
}
