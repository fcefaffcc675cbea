package org.ovis4j.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import org.ovis4j.core.json.Json;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;
import org.ovis4j.server.job.Generator;

/** An in-process server on the tiny checkpoint, on a free loopback port, and a small JSON client for it. */
final class TestServer implements AutoCloseable {
    record Response(int status, Map<String, Object> json, String text, HttpResponse<byte[]> raw) {
        @SuppressWarnings("unchecked")
        Map<String, Object> error() { return (Map<String, Object>) json.get("error"); }
    }

    final OvisServer server;
    final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final ByteArrayOutputStream log;
    private final String apiKey;

    private TestServer(OvisServer server, String apiKey, ByteArrayOutputStream log) {
        this.server = server;
        this.apiKey = apiKey;
        this.log = log;
    }

    static Path tinyModel() {
        return Path.of(System.getProperty("ovis4j.tinyModel", "../ovis4j-model/src/test/resources/goldens/ovis_image_tiny"));
    }

    /** The tiny model itself, as {@code ovis4j serve} loads it. */
    static Generator tinyGenerator() {
        return new OvisImageGenerator(OvisImage.load(tinyModel(), Precision.BF16));
    }

    static ServerOptions options(Path data, int queue, String key) {
        return new ServerOptions("127.0.0.1", 0, key, queue, 256, 256, 20, data, 1, Duration.ofSeconds(10));
    }

    static TestServer start(ServerOptions o, Callable<Generator> loader) throws InterruptedException {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        OvisServer s = OvisServer.start(o, "ovis_image_tiny", loader, new PrintStream(log, true, StandardCharsets.UTF_8));
        return new TestServer(s, o.apiKey(), log);
    }

    static TestServer startLoaded(ServerOptions o, Callable<Generator> loader) throws InterruptedException {
        TestServer t = start(o, loader);
        assertTrue(t.server.awaitLoaded(), "model did not load: " + t.server.loadFailure());
        return t;
    }

    URI uri(String path) { return URI.create(server.url() + path); }

    Response get(String path) throws Exception {
        return send(builder(path).GET().build());
    }

    Response post(String path, Object body) throws Exception {
        String text = body instanceof String s ? s : Json.write(body, 0);
        return send(builder(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(text)).build());
    }

    HttpRequest.Builder builder(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(120));
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        return b;
    }

    @SuppressWarnings("unchecked")
    Response send(HttpRequest r) throws Exception {
        HttpResponse<byte[]> res = client.send(r, HttpResponse.BodyHandlers.ofByteArray());
        String text = new String(res.body(), StandardCharsets.UTF_8);
        Map<String, Object> json = null;
        if (res.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) json = (Map<String, Object>) Json.parse(text);
        return new Response(res.statusCode(), json, text, res);
    }

    /** Polls a job until it is final. */
    Map<String, Object> awaitFinal(String id) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            Response r = get("/v1/jobs/" + id);
            String st = (String) r.json.get("status");
            if (st.equals("completed") || st.equals("failed") || st.equals("cancelled")) return r.json;
            Thread.sleep(20);
        }
        throw new AssertionError("job " + id + " not final after 120 s");
    }

    String log() { return log.toString(StandardCharsets.UTF_8); }

    @Override
    public void close() throws InterruptedException {
        server.shutdown();
    }
}
