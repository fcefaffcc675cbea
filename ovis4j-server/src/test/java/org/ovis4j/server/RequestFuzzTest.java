package org.ovis4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 malformed requests from 8 connections at a time: broken JSON, wrong types, huge and
 * negative numbers, 10 MB prompts, unknown fields, bad UTF-8, bodies sent slowly, broken HTTP
 * framing. Every answer must be a 4xx (or, for framing the HTTP layer cannot parse, a closed
 * connection), no job may be created, the server must still serve a valid request afterwards,
 * and the heap must come back to where it was.
 */
class RequestFuzzTest {
    static final int REQUESTS = 10_000, CLIENTS = 8;
    static final String VALID = "{\"prompt\": \"a sign\", \"size\": \"64x64\", \"steps\": 2, \"seed\": 3, \"n\": 1, \"guidance\": 4.5}";
    static final String[] FIELDS = {"prompt", "size", "steps", "seed", "n", "guidance", "negative_prompt", "response_format", "model", "output_format"};
    static final String[] WRONG_VALUES = {"true", "null", "[]", "{}", "[1,2]", "\"\"", "-1", "0", "1.5", "\"64\"", "{\"a\":1}", "1e309", "-1e309",
            "99999999999999999999999999", "-99999999999999999999", "9223372036854775808", "1e-400", "\"-64x64\"", "\"0x0\"", "\"64x-64\"",
            "\"100000x100000\"", "\"64X64\"", "\"64x64x64\"", "\"\\u0000\"", "\"\\ud83d\""};

    @Test
    void malformedRequestsGetOnly4xx(@TempDir Path data) throws Exception {
        try (TestServer s = TestServer.startLoaded(TestServer.options(data, 8, null), TestServer::tinyGenerator)) {
            int port = s.server.port();
            long heapBefore = usedHeapAfterGc();
            Map<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();
            Map<String, LongAdder> byKind = new ConcurrentHashMap<>();
            List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicInteger next = new AtomicInteger();
            long t0 = System.nanoTime();
            try (ExecutorService pool = Executors.newFixedThreadPool(CLIENTS)) {
                List<Future<?>> fs = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    fs.add(pool.submit(() -> {
                        for (int k; (k = next.getAndIncrement()) < REQUESTS; ) {
                            Random rnd = new Random(1000L + k);
                            Malformed m = malformed(k, rnd);
                            RawHttp.Answer a;
                            try {
                                a = RawHttp.exchange(port, m.head, m.pieces, m.pause);
                            } catch (Exception e) {
                                violations.add(m.kind + ": " + e);
                                continue;
                            }
                            byStatus.computeIfAbsent(a.status(), x -> new LongAdder()).increment();
                            byKind.computeIfAbsent(m.kind, x -> new LongAdder()).increment();
                            boolean ok = a.status() >= 400 && a.status() < 500 || (a.status() == -1 && m.kind.equals("framing"));
                            if (!ok && violations.size() < 20) violations.add(m.kind + " -> " + a.status() + " " + a.body() + " for " + m.describe());
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) f.get();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long heapAfter = usedHeapAfterGc();
            System.out.printf("fuzz: %d malformed requests in %.1f s from %d clients; answers by status %s; by kind %s; heap after GC %d MiB before, %d MiB after%n",
                    REQUESTS, seconds, CLIENTS, new TreeMap<>(byStatus), new TreeMap<>(byKind), heapBefore >> 20, heapAfter >> 20);
            assertEquals(List.of(), violations);
            assertEquals(REQUESTS, byStatus.values().stream().mapToLong(LongAdder::sum).sum());
            // No malformed request created a job, and the server still works.
            assertEquals(List.of(), s.get("/v1/jobs").json().get("data"));
            var ok = s.post("/v1/images/generations", VALID);
            assertEquals(200, ok.status(), ok.text());
            // Bounded memory: nothing of 10,000 requests (130 MB of 10 MB prompts among them) stays on the heap.
            assertTrue(heapAfter - heapBefore < 64L << 20, "heap grew by " + ((heapAfter - heapBefore) >> 20) + " MiB");
        }
    }

    static long usedHeapAfterGc() throws InterruptedException {
        for (int k = 0; k < 3; k++) {
            System.gc();
            Thread.sleep(50);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    record Malformed(String kind, String head, List<byte[]> pieces, long pause) {
        String describe() {
            String body = pieces.isEmpty() ? "" : new String(pieces.getFirst(), 0, Math.min(200, pieces.getFirst().length), StandardCharsets.UTF_8);
            return head.lines().findFirst().orElse("") + " " + body;
        }
    }

    static Malformed json(String kind, String path, byte[] body) {
        return new Malformed(kind, RawHttp.postHead(path, body.length, "application/json"), List.of(body), 0);
    }

    static Malformed json(String kind, byte[] body, Random rnd) {
        return json(kind, rnd.nextBoolean() ? "/v1/jobs" : "/v1/images/generations", body);
    }

    static byte[] utf8(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    /** Request k: every kind in turn, its details from the seeded random. */
    static Malformed malformed(int k, Random rnd) {
        switch (k % 10) {
            case 0 -> { // broken JSON: the valid body cut short, or with a structural character replaced by noise
                String v = VALID;
                if (rnd.nextBoolean()) return json("broken_json", utf8(v.substring(0, rnd.nextInt(v.length() - 1))), rnd);
                int[] structural = v.chars().map(c -> "{}[]:,\"".indexOf(c) >= 0 ? 1 : 0).toArray();
                int at;
                do at = rnd.nextInt(v.length()); while (structural[at] == 0);
                String noise = String.valueOf("{}[]:,'\\ #x".charAt(rnd.nextInt(11)));
                String broken = v.substring(0, at) + noise + v.substring(at + 1);
                if (broken.equals(v) || stillParses(broken)) broken = v + "}";
                return json("broken_json", utf8(broken), rnd);
            }
            case 1, 2 -> { // a field of the wrong type or out of range
                String field = FIELDS[rnd.nextInt(FIELDS.length)];
                String value = WRONG_VALUES[rnd.nextInt(WRONG_VALUES.length)];
                if (!isWrong(field, value)) value = "[" + value + "]"; // an array is wrong for every field
                String body = field.equals("prompt") ? "{\"prompt\": " + value + "}" : "{\"prompt\": \"x\", \"" + field + "\": " + value + "}";
                return json("wrong_type", utf8(body), rnd);
            }
            case 3 -> { // negative and zero sizes, steps, images
                String[] bad = {"\"size\": \"-64x64\"", "\"size\": \"64x-16\"", "\"size\": \"0x0\"", "\"steps\": -2", "\"steps\": 0", "\"n\": -1",
                        "\"guidance\": -0.5", "\"size\": \"-0x16\""};
                return json("negative", utf8("{\"prompt\": \"x\", " + bad[rnd.nextInt(bad.length)] + "}"), rnd);
            }
            case 4 -> { // unknown fields
                return json("unknown_field", utf8("{\"prompt\": \"x\", \"" + "qwzxk".substring(0, 1 + rnd.nextInt(5)) + rnd.nextInt(1000) + "\": 1}"), rnd);
            }
            case 5 -> { // bad UTF-8 inside a string
                byte[][] bad = {{(byte) 0xFF}, {(byte) 0xC3}, {(byte) 0xE2, (byte) 0x82}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xC0, (byte) 0xAF},
                        {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0x80}};
                byte[] b = bad[rnd.nextInt(bad.length)];
                byte[] pre = utf8("{\"prompt\": \"a sign "), post = utf8("\"}");
                byte[] body = new byte[pre.length + b.length + post.length];
                System.arraycopy(pre, 0, body, 0, pre.length);
                System.arraycopy(b, 0, body, pre.length, b.length);
                System.arraycopy(post, 0, body, pre.length + b.length, post.length);
                return json("bad_utf8", body, rnd);
            }
            case 6 -> { // huge bodies: every 1000th a 10 MB prompt, else just over the 1 MiB limit, declared or chunked
                int size = k % 1000 == 6 ? 10 << 20 : (1 << 20) + 1 + rnd.nextInt(4096);
                byte[] body = new byte[size];
                java.util.Arrays.fill(body, (byte) 'a');
                byte[] pre = utf8("{\"prompt\": \"");
                System.arraycopy(pre, 0, body, 0, pre.length);
                if (rnd.nextInt(4) == 0) return chunked("huge_body", body);
                return json("huge_body", body, rnd);
            }
            case 7 -> { // a slow body: an invalid document in pieces with pauses
                byte[] body = utf8("{\"prompt\": \"slow\", \"steps\": \"many\"}");
                List<byte[]> pieces = new ArrayList<>();
                for (int i = 0; i < body.length; i += 8) pieces.add(java.util.Arrays.copyOfRange(body, i, Math.min(body.length, i + 8)));
                return new Malformed("slow_body", RawHttp.postHead("/v1/jobs", body.length, "application/json"), pieces, 2 + rnd.nextInt(10));
            }
            case 8 -> { // wrong methods, paths and ids, and unsupported types
                String[] lines = {"GET /v1/images/generations", "PUT /v1/jobs", "DELETE /v1/jobs/job_0123456789abcdef01234567", "GET /v1/jobs/%00",
                        "GET /v1/jobs/../../etc/passwd", "GET /v1/images/..%2f..%2fjob.png", "POST /v1/models", "GET /v1/jobs/job_zz/events",
                        "GET /" + "a".repeat(5000), "POST /v1/jobs/job_0123456789abcdef01234567/cancel", "GET /v1/jobs?limit=-5", "GET /v1/jobs?limit=1e9"};
                String line = lines[rnd.nextInt(lines.length)];
                if (rnd.nextInt(3) == 0)
                    return new Malformed("method_path", RawHttp.postHead("/v1/jobs", 2, "text/plain"), List.of(utf8("{}")), 0);
                return new Malformed("method_path", line + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n", List.of(), 0);
            }
            default -> { // broken HTTP framing: a bad length, chunked garbage, too many or too long headers, no Host
                String[] heads = {
                    "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: abc\r\n",
                    "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: -5\r\n",
                    "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n",
                    "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + "b".repeat(70_000) + "\r\n",
                    "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + "X-H: 1\r\n".repeat(300),
                    "GARBAGE\r\n",
                    "POST /v1/jobs HTTP/1.1\r\nConnection: close\r\nContent-Length: 2\r\n",
                };
                int which = rnd.nextInt(heads.length);
                List<byte[]> body = which == 2 ? List.of(utf8("zz\r\nnot chunked\r\n")) : which == 6 ? List.of(utf8("{}")) : List.of();
                return new Malformed("framing", heads[which], body, 0);
            }
        }
    }

    static Malformed chunked(String kind, byte[] body) {
        List<byte[]> pieces = new ArrayList<>();
        for (int i = 0; i < body.length; i += 256 << 10) {
            int n = Math.min(256 << 10, body.length - i);
            pieces.add(utf8(Integer.toHexString(n) + "\r\n"));
            pieces.add(java.util.Arrays.copyOfRange(body, i, i + n));
            pieces.add(utf8("\r\n"));
        }
        pieces.add(utf8("0\r\n\r\n"));
        return new Malformed(kind, RawHttp.postHead("/v1/jobs", -1, "application/json"), pieces, 0);
    }

    /** Whether replacing a structural character left a document that still parses (then another mutation is used). */
    static boolean stillParses(String s) {
        try {
            org.ovis4j.core.json.Json.parse(s);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Whether the value is really wrong for the field (null means the default, and a string is a fine prompt). */
    static boolean isWrong(String field, String value) {
        if (value.equals("null")) return field.equals("prompt");
        boolean isString = value.startsWith("\"");
        boolean badText = value.equals("\"\\u0000\"") || value.equals("\"\\ud83d\"");
        return switch (field) {
            case "prompt" -> !isString || value.equals("\"\"") || badText;
            case "negative_prompt" -> !isString || badText;
            case "guidance" -> !(value.equals("0") || value.equals("1.5") || value.equals("1e-400"));
            case "seed" -> !(value.equals("-1") || value.equals("0") || value.equals("1e-400"));
            default -> true; // steps and n (no value from 1 to 20 in the list), size and the names (no valid string in it)
        };
    }
}
