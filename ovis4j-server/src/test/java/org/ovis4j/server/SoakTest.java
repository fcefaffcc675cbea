package org.ovis4j.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.json.Json;

/**
 * 1,000 requests from 8 concurrent clients on the tiny model, mixing synchronous generations,
 * asynchronous jobs, polls, cancels and bad requests, against a queue small enough to fill:
 * no accepted job may be lost (each reaches a final state, in memory and on disk), no answer may
 * be a 5xx, and a 429 must come only from a full queue (the refusal reports the count it saw).
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class SoakTest {
    static final int CLIENTS = 8, PER_CLIENT = 125, QUEUE = 16;
    static final String[] BAD = {"{\"prompt\": 1}", "{\"prompt\": \"x\", \"size\": \"17x17\"}", "{\"prompt\": \"x\", \"steps\": 0}", "{", "[]",
            "{\"prompt\": \"x\", \"colour\": \"red\"}", "{\"prompt\": \"x\", \"n\": 99}"};

    @Test
    void thousandMixedRequestsLoseNothing(@TempDir Path data) throws Exception {
        try (TestServer s = TestServer.startLoaded(TestServer.options(data, QUEUE, null), TestServer::tinyGenerator)) {
            Map<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();
            Map<String, LongAdder> byKind = new ConcurrentHashMap<>();
            Set<String> accepted = ConcurrentHashMap.newKeySet();
            List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            try (ExecutorService pool = Executors.newFixedThreadPool(CLIENTS)) {
                List<Future<?>> fs = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int client = c;
                    fs.add(pool.submit(() -> {
                        Random rnd = new Random(77 + client);
                        List<String> mine = new ArrayList<>();
                        for (int k = 0; k < PER_CLIENT; k++) {
                            int dice = rnd.nextInt(100);
                            String kind = dice < 25 ? "sync" : dice < 60 ? "async" : dice < 72 ? "cancel" : dice < 85 ? "poll" : "bad";
                            if ((kind.equals("cancel") || kind.equals("poll")) && mine.isEmpty()) kind = "async";
                            byKind.computeIfAbsent(kind, x -> new LongAdder()).increment();
                            TestServer.Response r;
                            try {
                                r = switch (kind) {
                                    case "sync" -> s.post("/v1/images/generations", body(rnd));
                                    case "async" -> s.post("/v1/jobs", body(rnd));
                                    case "cancel" -> s.post("/v1/jobs/" + mine.get(rnd.nextInt(mine.size())) + "/cancel", Map.of());
                                    case "poll" -> s.get("/v1/jobs/" + mine.get(rnd.nextInt(mine.size())));
                                    default -> s.post(rnd.nextBoolean() ? "/v1/jobs" : "/v1/images/generations", BAD[rnd.nextInt(BAD.length)]);
                                };
                            } catch (Exception e) {
                                problems.add(kind + ": " + e);
                                continue;
                            }
                            byStatus.computeIfAbsent(r.status(), x -> new LongAdder()).increment();
                            String expected = switch (kind) {
                                case "sync" -> "200 429";
                                case "async" -> "202 429";
                                case "cancel" -> "200 409";
                                case "poll" -> "200";
                                default -> "400";
                            };
                            if (!Set.of(expected.split(" ")).contains(Integer.toString(r.status()))) problems.add(kind + " -> " + r.status() + " " + r.text());
                            if (r.status() == 429) {
                                // A client that backs off a little (not the whole Retry-After: the test would only wait).
                                Thread.sleep(20 + rnd.nextInt(30));
                                // The refusal names the number of jobs it found waiting: the whole queue.
                                String msg = (String) r.error().get("message");
                                if (!msg.contains("(" + QUEUE + " jobs waiting)")) problems.add("429 without a full queue: " + msg);
                            }
                            if (r.status() == 202) {
                                String id = (String) r.json().get("id");
                                accepted.add(id);
                                mine.add(id);
                            }
                            if (kind.equals("sync") && r.status() == 200) accepted.add((String) r.json().get("job_id"));
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) f.get();
            }
            double requestSeconds = (System.nanoTime() - t0) / 1e9;
            Map<String, Integer> finals = new TreeMap<>();
            for (String id : accepted) {
                String st = (String) s.awaitFinal(id).get("status");
                finals.merge(st, 1, Integer::sum);
                Map<?, ?> onDisk = (Map<?, ?>) Json.parse(Files.readString(data.resolve("jobs/" + id + ".json")));
                if (!onDisk.get("state").equals(st)) problems.add(id + " is " + st + " but its file says " + onDisk.get("state"));
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long fiveXx = byStatus.entrySet().stream().filter(e -> e.getKey() >= 500).mapToLong(e -> e.getValue().sum()).sum();
            System.out.printf("soak: %d requests from %d clients in %.1f s (%.0f requests/s), all jobs final after %.1f s; requests by kind %s; "
                            + "answers by status %s; %d jobs accepted, final states %s; lost 0 of %d; 5xx %d%n",
                    CLIENTS * PER_CLIENT, CLIENTS, requestSeconds, CLIENTS * PER_CLIENT / requestSeconds, seconds, new TreeMap<>(byKind),
                    new TreeMap<>(byStatus), accepted.size(), finals, accepted.size(), fiveXx);
            assertEquals(List.of(), problems.subList(0, Math.min(20, problems.size())));
            assertEquals(0, fiveXx);
            assertEquals(accepted.size(), finals.values().stream().mapToInt(Integer::intValue).sum());
            assertEquals(CLIENTS * PER_CLIENT, byStatus.values().stream().mapToLong(LongAdder::sum).sum());
            assertTrue(finals.getOrDefault("completed", 0) > 0, "some jobs completed");
            // The server's own count of jobs agrees: nothing it accepted is missing from its files either.
            try (var files = Files.list(data.resolve("jobs"))) {
                assertEquals(accepted.size(), files.filter(p -> p.toString().endsWith(".json")).count());
            }
        }
    }

    static Map<String, Object> body(Random rnd) {
        int side = rnd.nextBoolean() ? 32 : 64;
        return Map.of("prompt", "soak " + rnd.nextInt(1000), "size", side + "x" + side, "steps", (long) 1 + rnd.nextInt(2),
                "guidance", rnd.nextBoolean() ? 1.0 : 4.0, "seed", (long) rnd.nextInt(1000));
    }
}
