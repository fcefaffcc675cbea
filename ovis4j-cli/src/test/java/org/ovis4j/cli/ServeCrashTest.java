package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.json.Json;

/**
 * {@code ovis4j serve} as its own JVM, killed with SIGKILL in the middle of a job and started again
 * on the same {@code --data}: every job accepted before the kill reaches completed, or failed with
 * its reason, under the id the client was given. The job that was running is run again once; killed
 * again during that run, it fails as "interrupted" instead of being tried forever. Then SIGTERM:
 * the server stops by itself with exit code 0.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ServeCrashTest {
    static final Path TINY = CliProcess.repository().resolve("ovis4j-model/src/test/resources/goldens/ovis_image_tiny");
    static final Pattern LISTENING = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)");
    final HttpClient http = HttpClient.newHttpClient();

    /** One server process and what it printed (to a file: a pipe's reader can lose the last lines to a process's exit). */
    final class Server {
        final Process process;
        final Path logFile;
        final String url;

        Server(Path data) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g", "-cp", classPath(),
                    Ovis4j.class.getName(), "serve", "--model", TINY.toString(), "--port", "0", "--data", data.toString(),
                    "--max-size", "256x256", "--queue", "64", "--shutdown-grace", "60"));
            logFile = Files.createTempFile(data.getParent(), "serve", ".log");
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
            url = awaitLine(LISTENING).group(1);
            awaitLine(Pattern.compile("model loaded"));
        }

        List<String> log() throws IOException {
            return Files.readAllLines(logFile, StandardCharsets.UTF_8);
        }

        Matcher awaitLine(Pattern p) throws InterruptedException, IOException {
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (System.nanoTime() < deadline) {
                for (String line : log()) {
                    Matcher m = p.matcher(line);
                    if (m.find()) return m;
                }
                if (!process.isAlive()) fail("server exited with " + process.exitValue() + ": " + log());
                Thread.sleep(20);
            }
            throw new AssertionError("no line matching " + p + " in " + log());
        }

        Map<?, ?> post(String path, String body) throws Exception {
            var r = http.send(HttpRequest.newBuilder(URI.create(url + path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, r.statusCode(), r.body());
            return (Map<?, ?>) Json.parse(r.body());
        }

        Map<?, ?> job(String id) throws Exception {
            var r = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/jobs/" + id)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return (Map<?, ?>) Json.parse(r.body());
        }

        /** Waits until the job runs and has done a denoising step. */
        void awaitRunning(String id) throws Exception {
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (System.nanoTime() < deadline) {
                Map<?, ?> j = job(id);
                if (j.get("status").equals("running") && ((Long) ((Map<?, ?>) j.get("progress")).get("step")) >= 1) return;
                assertTrue(j.get("status").equals("queued") || j.get("status").equals("running"), j.toString());
                Thread.sleep(10);
            }
            throw new AssertionError(id + " never ran");
        }

        Map<?, ?> awaitFinal(String id) throws Exception {
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (System.nanoTime() < deadline) {
                Map<?, ?> j = job(id);
                if (Set.of("completed", "failed", "cancelled").contains(j.get("status"))) return j;
                Thread.sleep(20);
            }
            throw new AssertionError(id + " not final");
        }

        void kill9() throws InterruptedException {
            process.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no signal handler runs
            assertTrue(process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, process.exitValue(), "killed by SIGKILL");
        }
    }

    private static final class Set {
        static java.util.Set<Object> of(Object... o) { return java.util.Set.of(o); }
    }

    static String classPath() {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator))
            if (!e.isEmpty() && !e.contains("test-classes")) out.add(e);
        return String.join(File.pathSeparator, out);
    }

    static String state(Path data, String id) throws IOException {
        return (String) ((Map<?, ?>) Json.parse(Files.readString(data.resolve("jobs/" + id + ".json")))).get("state");
    }

    @Test
    void killedServerResumesEveryAcceptedJob(@TempDir Path data) throws Exception {
        long t0 = System.nanoTime();
        // 1. A long job running, five short ones queued behind it; then SIGKILL.
        Server a = new Server(data);
        String longJob = (String) a.post("/v1/jobs", "{\"prompt\": \"long\", \"size\": \"128x128\", \"steps\": 50, \"seed\": 1}").get("id");
        List<String> short5 = new ArrayList<>();
        for (int k = 0; k < 5; k++)
            short5.add((String) a.post("/v1/jobs", "{\"prompt\": \"short " + k + "\", \"size\": \"64x64\", \"steps\": 2, \"seed\": " + k + "}").get("id"));
        a.awaitRunning(longJob);
        a.kill9();
        assertEquals("running", state(data, longJob), "the kill came during the long job");
        for (String id : short5) assertEquals("queued", state(data, id));

        // 2. Restarted: the queue is back and the interrupted job runs again (first in line); killed again during that run.
        Server b = new Server(data);
        b.awaitLine(Pattern.compile("5 queued resumed, 1 interrupted re-run"));
        assertEquals(1L, b.job(short5.getFirst()).get("position"));
        b.awaitRunning(longJob);
        assertEquals(2L, b.job(longJob).get("attempts"));
        b.kill9();

        // 3. Restarted again: the twice-interrupted job fails with its reason, every other job completes, under the same ids.
        Server c = new Server(data);
        c.awaitLine(Pattern.compile("5 queued resumed, 0 interrupted re-run, 1 interrupted failed"));
        Map<?, ?> failed = c.awaitFinal(longJob);
        assertEquals("failed", failed.get("status"));
        Map<?, ?> error = (Map<?, ?>) failed.get("error");
        assertEquals("interrupted", error.get("code"));
        assertTrue(((String) error.get("message")).contains("the server stopped while this job ran, 2 times"), error.toString());
        for (String id : short5) {
            Map<?, ?> j = c.awaitFinal(id);
            assertEquals("completed", j.get("status"), j.toString());
            String image = (String) ((Map<?, ?>) ((List<?>) j.get("images")).getFirst()).get("url");
            var png = http.send(HttpRequest.newBuilder(URI.create(image)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, png.statusCode());
        }

        // 4. SIGTERM while a job runs: it finishes (within the grace period), the server exits 0 by itself.
        String last = (String) c.post("/v1/jobs", "{\"prompt\": \"last\", \"size\": \"64x64\", \"steps\": 8}").get("id");
        c.awaitRunning(last);
        c.process.destroy(); // SIGTERM
        assertTrue(c.process.waitFor(120, TimeUnit.SECONDS), "stopped after SIGTERM");
        assertEquals(0, c.process.exitValue(), String.join("\n", c.log()));
        assertEquals("completed", state(data, last), String.join("\n", c.log()));
        assertTrue(c.log().contains("ovis4j: stopped"), c.log().toString());
        System.out.printf("crash: 3 server processes, 2 SIGKILLs during a job, then a SIGTERM, in %.1f s; 7 jobs accepted, 6 completed, "
                + "1 failed (interrupted twice), 0 lost%n", (System.nanoTime() - t0) / 1e9);
    }
}
