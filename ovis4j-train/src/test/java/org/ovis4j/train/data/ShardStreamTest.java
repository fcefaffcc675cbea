package org.ovis4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;

/** Epochs, shard order, the shuffle buffer and resuming of the stream over tar shards. */
class ShardStreamTest {
    @TempDir static Path dir;
    static ShardSet set;
    static final int RECORDS = 13;

    @BeforeAll
    static void shards() throws Exception {
        set = ShardSet.open(TestShards.write(dir.resolve("data"), 16, 16, 3, 5, 1, 4));
    }

    private static List<ShardRecord> take(ShardStream s, int n) {
        List<ShardRecord> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(s.next());
        return out;
    }

    private static List<String> keys(List<ShardRecord> rs) {
        return rs.stream().map(ShardRecord::key).toList();
    }

    private static ShardStream.Options options(long seed, int buffer) {
        return new ShardStream.Options(seed, buffer, true, false);
    }

    @Test
    void everyRecordOncePerEpochInAnOrderThatIsAFunctionOfTheSeed() {
        List<String> a, again, other;
        try (ShardStream s = new ShardStream(set, options(1, 4), 3)) {
            a = keys(take(s, 3 * RECORDS));
            assertNull(s.next(), "three epochs end");
        }
        for (int e = 0; e < 3; e++) {
            Set<String> epoch = new HashSet<>(a.subList(e * RECORDS, (e + 1) * RECORDS));
            assertEquals(RECORDS, epoch.size(), "epoch " + e + " repeats a record: " + a);
        }
        assertNotEquals(a.subList(0, RECORDS), a.subList(RECORDS, 2 * RECORDS), "two epochs in the same order");
        try (ShardStream s = new ShardStream(set, options(1, 4), 3)) {
            again = keys(take(s, 3 * RECORDS));
        }
        assertEquals(a, again);
        try (ShardStream s = new ShardStream(set, options(2, 4), 3)) {
            other = keys(take(s, 3 * RECORDS));
        }
        assertNotEquals(a, other);
        List<String> sorted = new ArrayList<>(a.subList(0, RECORDS));
        sorted.sort(null);
        assertNotEquals(sorted, a.subList(0, RECORDS), "not shuffled");
    }

    @Test
    void aBufferOfOneInSetOrderIsTheArchiveOrder() {
        try (ShardStream s = new ShardStream(set, new ShardStream.Options(9, 1, false, true), 1)) {
            List<ShardRecord> rs = take(s, RECORDS);
            for (int i = 0; i < RECORDS; i++) assertEquals(String.format("%06d", i), rs.get(i).key());
            assertArrayEquals(TestShards.png(16, 16, 5), rs.get(5).image());
            assertEquals("caption number 5", rs.get(5).caption());
            assertEquals(1, rs.get(5).shard());
            assertEquals(2, rs.get(5).index());
            assertNull(s.next());
        }
    }

    /** Resuming from the position after every record of two epochs continues with exactly the same records. */
    @Test
    void resumingFromASavedPositionContinuesTheSameSequence() {
        ShardStream.Options o = new ShardStream.Options(5, 4, true, true);
        List<ShardRecord> full;
        try (ShardStream s = new ShardStream(set, o, 2)) {
            full = take(s, 2 * RECORDS);
        }
        for (int k = 0; k <= 2 * RECORDS; k++) {
            String saved;
            try (ShardStream s = new ShardStream(set, o, 2)) {
                assertEquals(keys(full.subList(0, k)), keys(take(s, k)));
                saved = Json.write(s.position().toJson(), 0); // as a checkpoint would store it
            }
            @SuppressWarnings("unchecked")
            StreamPosition at = StreamPosition.fromJson("position.json", (Map<String, Object>) Json.parse(saved));
            try (ShardStream s = new ShardStream(set, o, 2, at)) {
                List<ShardRecord> rest = take(s, 2 * RECORDS - k);
                for (int i = 0; i < rest.size(); i++) {
                    ShardRecord want = full.get(k + i), got = rest.get(i);
                    assertEquals(want.key(), got.key(), "resumed after " + k + ", record " + i);
                    assertArrayEquals(want.image(), got.image());
                    assertEquals(want.caption(), got.caption());
                }
                assertNull(s.next(), "resumed after " + k + ": the same end");
            }
        }
    }

    @Test
    void aPositionOfAnotherSeedIsRefused() {
        StreamPosition p;
        try (ShardStream s = new ShardStream(set, options(1, 4), 1)) {
            take(s, 3);
            p = s.position();
        }
        OvisException e = assertThrows(OvisException.class, () -> new ShardStream(set, options(2, 4), 1, p));
        assertEquals("data position was saved with seed 1, not 2", e.getMessage());
    }

    @Test
    void aMissingShardIsNamedWhenTheSetIsOpened() throws Exception {
        Path d = TestShards.write(dir.resolve("missing"), 16, 16, 2, 2, 2);
        Files.delete(d.resolve("shard-000001.tar"));
        OvisException e = assertThrows(OvisException.class, () -> ShardSet.open(d));
        assertEquals(d.toAbsolutePath().resolve("shard-000001.tar") + ": shard listed in manifest.json not found", e.getMessage());
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertEquals(empty + ": no tar shards and no manifest.json in this folder",
                assertThrows(OvisException.class, () -> ShardSet.open(empty)).getMessage());
        assertEquals(dir.resolve("nowhere") + ": data set not found",
                assertThrows(OvisException.class, () -> ShardSet.open(dir.resolve("nowhere"))).getMessage());
    }

    @Test
    void aShardShorterThanItsManifestSaysIsNamed() throws Exception {
        Path d = TestShards.write(dir.resolve("short"), 16, 16, 2, 2);
        Path tar = d.resolve("shard-000001.tar");
        byte[] all = Files.readAllBytes(tar);
        Files.write(tar, java.util.Arrays.copyOf(all, all.length - 1024));
        OvisException e = assertThrows(OvisException.class, () -> ShardSet.open(d));
        assertEquals(d.toAbsolutePath().resolve("shard-000001.tar") + ": " + (all.length - 1024) + " bytes, manifest.json says "
                + all.length + " (incomplete copy?)", e.getMessage());
    }

    private static long padded(int bytes) {
        return (bytes + 511) / 512 * 512L;
    }

    private static String firstError(Path tar) {
        ShardSet s = ShardSet.of(List.of(tar));
        return assertThrows(OvisException.class, () -> {
            try (ShardStream st = new ShardStream(s, new ShardStream.Options(0, 1, false, true), 1)) {
                while (st.next() != null) { }
            }
        }).getMessage();
    }

    @Test
    void damagedRecordsAreOneLineErrorsNamingShardAndRecord() throws Exception {
        byte[] png = TestShards.png(16, 16, 0);
        Path noCaption = TestShards.tar(dir.resolve("nocaption.tar"),
                "a.png", png, "a.json", TestShards.json("a", "x"), "b.png", png, "c.png", png, "c.json", TestShards.json("c", "y"));
        assertEquals(noCaption + ": record 1 (key b): no caption (.json or .txt entry)", firstError(noCaption));

        Path noImage = TestShards.tar(dir.resolve("noimage.tar"), "a.json", TestShards.json("a", "x"));
        assertEquals(noImage + ": record 0 (key a): no image (.png or .jpg entry)", firstError(noImage));

        Path badJson = TestShards.tar(dir.resolve("badjson.tar"), "a.png", png, "a.json", "{\"prompt\": ".getBytes(StandardCharsets.UTF_8));
        assertTrue(firstError(badJson).startsWith(badJson + ": record 0 (key a): .json is not valid JSON ("), firstError(badJson));

        Path noPrompt = TestShards.tar(dir.resolve("noprompt.tar"), "a.png", png, "a.json", "{\"id\": \"a\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals(noPrompt + ": record 0 (key a): .json has no \"prompt\" string", firstError(noPrompt));

        Path txt = TestShards.tar(dir.resolve("txt.tar"), "a.jpg", png, "a.txt", " a caption \n".getBytes(StandardCharsets.UTF_8));
        try (ShardStream st = new ShardStream(ShardSet.of(List.of(txt)), new ShardStream.Options(0, 1, false, true), 1)) {
            assertEquals("a caption", st.next().caption());
        }

        Path good = TestShards.write(dir.resolve("cut"), 16, 16, 3).resolve("shard-000000.tar");
        byte[] all = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.tar");
        long record0 = 512 + padded(TestShards.png(16, 16, 0).length) + 512 + padded(TestShards.json("000000", "caption number 0").length);
        Files.write(cut, java.util.Arrays.copyOf(all, (int) record0 + 512 + 100)); // inside the image of record 1
        assertTrue(firstError(cut).startsWith(cut + ": record 1 (key 000001): truncated in entry 000001.png"), firstError(cut));
    }
}
