package org.ovis4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.data.Synthesizer;
import org.ovis4j.data.render.FontCatalog;
import org.ovis4j.data.render.Lang;
import org.ovis4j.pipeline.Latents;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;
import org.ovis4j.pipeline.ProgressListener;
import org.ovis4j.train.data.CachedDataset.Posterior;
import org.ovis4j.train.data.Preprocessing.Crop;
import org.ovis4j.train.data.Preprocessing.Resize;
import org.ovis4j.train.testing.TrainingGoldens;
import org.ovis4j.vae.LatentDistribution;

/**
 * The cache built from data-engine shards with the tiny model: what it holds is exactly what the
 * model's own encoders give, it is deterministic, an interrupted build resumes, and batches read back
 * in a seeded order that resumes from a saved position.
 */
class LatentCacheTest {
    @TempDir static Path dir;
    static OvisImage model;
    static ShardSet data;
    static Path cache;
    static CacheBuilder.Summary summary;
    static final List<String> warnings = new ArrayList<>();
    /** The data engine's images are 64x64: the cache shrinks them by 2 (covering, then a no-op centre crop). */
    static final Preprocessing PREP = new Preprocessing(32, 32, Resize.COVER, Crop.CENTER, 0);
    /** The default; the data engine's captions are 170 to 240 tokens with the template in the tiny tokenizer. */
    static final int MSL = 256, RECORDS = 5;

    @BeforeAll
    static void build() {
        model = OvisImage.load(TrainingGoldens.tinyModel(), Precision.FP32);
        // 5 samples in shards of 2: three shards (2, 2, 1), English and Chinese captions.
        Synthesizer.run(new Synthesizer.Options(RECORDS, dir.resolve("data"), 11, List.of(Lang.EN, Lang.ZH), 64, 64, 2,
                false, 3.0, 4, 2), FontCatalog.system());
        data = ShardSet.open(dir.resolve("data"));
        cache = dir.resolve("cache");
        summary = new CacheBuilder(model, PREP, MSL).build(data, cache, new CacheBuilder.Listener() {
            @Override public void onWarning(String message) { warnings.add(message); }
        });
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Every record of the data set in set order, images included. */
    private static List<ShardRecord> records() {
        List<ShardRecord> out = new ArrayList<>();
        try (ShardStream s = new ShardStream(data, new ShardStream.Options(0, 1, false, true), 1)) {
            for (ShardRecord r; (r = s.next()) != null; ) out.add(r);
        }
        return out;
    }

    private static CachedDataset open(Path dir, int batch, long seed, Posterior p) {
        return CachedDataset.open(dir, new CachedDataset.Options(batch, seed, p));
    }

    @Test
    void theBuildCoversEveryShardAndRecord() {
        assertEquals(new CacheBuilder.Summary(3, 3, 0, RECORDS, cache.resolve("cache.json")), summary);
        assertEquals(3, data.size());
        CacheManifest m = CacheManifest.read(cache);
        assertEquals(List.of(2, 2, 1), m.shards().stream().map(CacheManifest.Shard::records).toList());
        assertEquals(List.of("shard-000000.tar", "shard-000001.tar", "shard-000002.tar"),
                m.shards().stream().map(CacheManifest.Shard::source).toList());
        assertEquals(16, m.latentChannels());
        assertEquals(4, m.latentHeight());
        assertEquals(4, m.latentWidth());
        assertEquals(0.3611, m.scalingFactor());
        assertEquals(0.1159, m.shiftFactor());
        assertEquals(64, m.textWidth());
        assertEquals(MSL, m.maxSequenceLength());
        assertTrue(warnings.isEmpty(), "captions were cut: " + warnings);
    }

    @Test
    void cachedLatentsAreTheVaeEncodingOfThePreprocessedImageBitForBit() {
        List<ShardRecord> recs = records();
        try (CachedDataset ds = open(cache, 1, 0, Posterior.MEAN)) {
            assertEquals(RECORDS, ds.size());
            for (int i = 0; i < RECORDS; i++) {
                ShardRecord r = recs.get(i);
                CachedDataset.Sample s = ds.sample(i);
                assertEquals(r.key(), s.key());
                assertEquals(r.caption(), s.caption());
                LatentDistribution d = model.vae().encode(PREP.apply(r), 32, 32);
                assertArrayEquals(d.mean(), s.latentMean(), r.where() + ": mean");
                assertArrayEquals(d.logvar(), s.latentLogvar(), r.where() + ": logvar");
            }
        }
    }

    @Test
    void cachedTextStatesAreThePipelinesPromptEncodingBitForBit() {
        try (CachedDataset ds = open(cache, 1, 0, Posterior.MEAN)) {
            for (int i = 0; i < RECORDS; i++) {
                CachedDataset.Sample s = ds.sample(i);
                assertArrayEquals(model.encodePrompt(s.caption(), MSL, ProgressListener.NONE), s.promptEmbeds(), s.key());
            }
            assertArrayEquals(model.encodePrompt("", MSL, ProgressListener.NONE), ds.emptyPromptEmbeds());
        }
        // Only the rows before the padding are on disk (fewer than msl for these captions).
        try (Arena a = Arena.ofConfined()) {
            Tensor t = SafetensorsFile.read(cache.resolve("cache-00000.safetensors"), a).tensors().get("prompt_embeds.0");
            assertEquals(64, t.dim(1));
            assertTrue(t.dim(0) > 0 && t.dim(0) < MSL, "rows stored: " + t.dim(0));
        }
    }

    @Test
    void longCaptionsAreCutAsThePipelineCutsThemWithAWarning() {
        Path out = dir.resolve("short-msl");
        List<String> cut = new ArrayList<>();
        ShardSet last = ShardSet.of(List.of(data.get(2).path()));
        new CacheBuilder(model, PREP, 16).build(last, out, new CacheBuilder.Listener() {
            @Override public void onWarning(String message) { cut.add(message); }
        });
        assertEquals(1, cut.size(), cut.toString());
        assertTrue(cut.getFirst().matches("\\Q" + data.get(2).path() + "\\E: record 0 \\(key \\d+\\): caption is \\d+ tokens with the "
                + "template; cut to 44 \\(max sequence length 16 \\+ 28\\)"), cut.getFirst());
        try (CachedDataset ds = open(out, 1, 0, Posterior.MEAN); Arena a = Arena.ofConfined()) {
            assertArrayEquals(model.encodePrompt(ds.sample(0).caption(), 16, ProgressListener.NONE), ds.sample(0).promptEmbeds());
            Tensor t = SafetensorsFile.read(out.resolve("cache-00000.safetensors"), a).tensors().get("prompt_embeds.0");
            assertArrayEquals(new long[] {16, 64}, t.shape(), "a cut caption fills every row");
        }
    }

    /**
     * Against the reference pipeline (diffusers, float32) for the recorded case "a red apple" at
     * msl 16: the cached text states and the cached empty prompt are its prompt_embeds and
     * negative_prompt_embeds. Tolerance as for the model's own parity tests: the reference is accurate
     * to a few 1e-6 (goldens README 8) and our reductions run in another order, so 1e-4 + 1e-4·|x|.
     */
    @Test
    void cachedTextStatesAreTheReferencePipelines() throws Exception {
        Path root = TrainingGoldens.tinyModel().resolve("cases/en_w32_h32");
        Config c = Config.read(root.resolve("case.json"));
        Path shard = TestShards.tar(dir.resolve("apple.tar"), "apple.png", TestShards.png(32, 32, 1),
                "apple.json", TestShards.json("apple", c.getString("prompt")));
        Path out = dir.resolve("apple-cache");
        int msl = c.getInt("max_sequence_length");
        new CacheBuilder(model, PREP, msl).build(ShardSet.of(List.of(shard)), out, CacheBuilder.Listener.NONE);
        Map<String, Tensor> ref = SafetensorsFile.read(root.resolve("intermediates.safetensors"), Arena.ofAuto()).tensors();
        try (CachedDataset ds = open(out, 1, 0, Posterior.MEAN)) {
            close("prompt_embeds", ref.get("prompt_embeds").toFloats(), ds.sample(0).promptEmbeds());
            close("negative_prompt_embeds", ref.get("negative_prompt_embeds").toFloats(), ds.emptyPromptEmbeds());
        }
    }

    private static void close(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++)
            if (!(Math.abs(got[i] - want[i]) <= 1e-4 + 1e-4 * Math.abs(want[i])))
                fail(what + "[" + i + "] = " + got[i] + ", reference " + want[i]);
    }

    private static List<Path> files(Path root) throws Exception {
        try (Stream<Path> s = Files.list(root)) {
            return s.sorted().toList();
        }
    }

    private static void assertSameFiles(Path a, Path b) throws Exception {
        List<Path> fa = files(a), fb = files(b);
        assertEquals(fa.stream().map(p -> p.getFileName().toString()).toList(), fb.stream().map(p -> p.getFileName().toString()).toList());
        for (Path p : fa) assertArrayEquals(Files.readAllBytes(p), Files.readAllBytes(b.resolve(p.getFileName())), "differs: " + p.getFileName());
    }

    @Test
    void theSameInputsGiveAByteIdenticalCache() throws Exception {
        Path again = dir.resolve("again");
        new CacheBuilder(model, PREP, MSL).build(data, again, CacheBuilder.Listener.NONE);
        assertSameFiles(cache, again);
    }

    private record Event(int shard, boolean skipped) {}

    @Test
    void anInterruptedBuildResumesBySkippingCompleteShards() throws Exception {
        Path out = dir.resolve("interrupted");
        RuntimeException kill = new RuntimeException("killed");
        RuntimeException e = assertThrows(RuntimeException.class, () -> new CacheBuilder(model, PREP, MSL).build(data, out,
                new CacheBuilder.Listener() {
                    @Override public void onRecord(int shard, int record) {
                        if (shard == 1 && record == 1) throw kill; // in the middle of the second shard
                    }
                }));
        assertTrue(e == kill);
        assertTrue(Files.isRegularFile(out.resolve("cache-00000.safetensors")));
        assertFalse(Files.exists(out.resolve("cache-00001.safetensors")), "an unfinished shard under its final name");
        assertFalse(Files.exists(out.resolve("cache.json")), "the index before the shards");
        assertEquals(out.resolve("cache.json") + ": not found (the cache build did not finish; run it again to complete it)",
                assertThrows(OvisException.class, () -> open(out, 1, 0, Posterior.MEAN)).getMessage());
        // A process killed while writing leaves its temporary file behind.
        Files.write(out.resolve("cache-00001.safetensors.partial"), new byte[] {1, 2, 3});
        FileTime first = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(out.resolve("cache-00000.safetensors"), first);

        List<Event> events = new ArrayList<>();
        CacheBuilder.Summary s = new CacheBuilder(model, PREP, MSL).build(data, out, new CacheBuilder.Listener() {
            @Override public void onShard(int index, int count, Path file, boolean skipped) { events.add(new Event(index, skipped)); }
        });
        assertEquals(List.of(new Event(0, true), new Event(1, false), new Event(2, false)), events);
        assertEquals(new CacheBuilder.Summary(3, 2, 1, RECORDS, out.resolve("cache.json")), s);
        assertEquals(first, Files.getLastModifiedTime(out.resolve("cache-00000.safetensors")), "the complete shard was rewritten");
        assertSameFiles(cache, out);
        // once complete, building again only checks
        events.clear();
        new CacheBuilder(model, PREP, MSL).build(data, out, new CacheBuilder.Listener() {
            @Override public void onShard(int index, int count, Path file, boolean skipped) { events.add(new Event(index, skipped)); }
        });
        assertEquals(List.of(new Event(0, true), new Event(1, true), new Event(2, true)), events);
    }

    @Test
    void resumingWithOtherSettingsIsRefused() throws Exception {
        OvisException e = assertThrows(OvisException.class, () -> new CacheBuilder(model,
                new Preprocessing(48, 48, Resize.COVER, Crop.CENTER, 0), MSL).build(data, cache, CacheBuilder.Listener.NONE));
        assertEquals(cache.resolve("cache.json") + ": cache was built with width 32, not 48; use another cache folder", e.getMessage());
        Path partial = Files.createDirectories(dir.resolve("other-seed"));
        Files.copy(cache.resolve("cache-00000.safetensors"), partial.resolve("cache-00000.safetensors"));
        e = assertThrows(OvisException.class, () -> new CacheBuilder(model,
                new Preprocessing(32, 32, Resize.COVER, Crop.RANDOM, 0), MSL).build(data, partial, CacheBuilder.Listener.NONE));
        assertEquals(partial.resolve("cache-00000.safetensors") + ": cache was built with crop center, not random; "
                + "delete it or use another cache folder", e.getMessage());
    }

    @Test
    void badRecordsStopTheBuildWithOneLineNamingShardAndRecord() throws Exception {
        ShardRecord first = records().getFirst();
        OvisException e = assertThrows(OvisException.class, () -> new CacheBuilder(model,
                new Preprocessing(32, 32, Resize.OFF, Crop.CENTER, 0), MSL).build(data, dir.resolve("no-resize"), CacheBuilder.Listener.NONE));
        assertEquals(data.get(0).path() + ": record 0 (key " + first.key() + "): image is 64x64, the training size is 32x32 "
                + "and resizing is off", e.getMessage());

        byte[] png = TestShards.png(32, 32, 0);
        Path broken = TestShards.tar(dir.resolve("broken.tar"), "a.png", png, "a.json", TestShards.json("a", "x"),
                "b.png", png, "b.json", "{\"id\": \"b\"}".getBytes());
        e = assertThrows(OvisException.class, () -> new CacheBuilder(model, PREP, MSL)
                .build(ShardSet.of(List.of(broken)), dir.resolve("broken-cache"), CacheBuilder.Listener.NONE));
        assertEquals(broken + ": record 1 (key b): .json has no \"prompt\" string", e.getMessage());
    }

    @Test
    void aMissingCacheShardIsNamed() throws Exception {
        Path copy = Files.createDirectories(dir.resolve("copy"));
        for (Path p : files(cache)) if (!p.getFileName().toString().equals("cache-00001.safetensors")) Files.copy(p, copy.resolve(p.getFileName()));
        OvisException e = assertThrows(OvisException.class, () -> open(copy, 2, 0, Posterior.MEAN));
        assertEquals(copy.resolve("cache-00001.safetensors") + ": file not found", e.getMessage());
    }

    private static List<CachedDataset.Batch> batches(CachedDataset ds, int n) {
        List<CachedDataset.Batch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(ds.next());
        return out;
    }

    private static void assertSameBatch(CachedDataset.Batch a, CachedDataset.Batch b, String what) {
        assertEquals(a.keys(), b.keys(), what);
        assertArrayEquals(a.samples(), b.samples(), what);
        assertArrayEquals(a.x0(), b.x0(), what);
        assertArrayEquals(a.promptEmbeds(), b.promptEmbeds(), what);
    }

    @Test
    void batchesComeInASeededOrderOverEpochsAndResumeFromASavedPosition() {
        // batch 2 over 5 samples: batches straddle the epoch boundaries; 8 batches = 16 samples, 3.2 epochs
        List<CachedDataset.Batch> full;
        try (CachedDataset ds = open(cache, 2, 3, Posterior.SAMPLE)) {
            full = batches(ds, 8);
            assertEquals(3, ds.epoch());
        }
        List<Integer> order = new ArrayList<>();
        for (CachedDataset.Batch b : full) for (int s : b.samples()) order.add(s);
        for (int e = 0; e < 3; e++)
            assertEquals(List.of(0, 1, 2, 3, 4), order.subList(5 * e, 5 * e + 5).stream().sorted().toList(), "epoch " + e + ": " + order);
        assertNotEquals(order.subList(0, 5), order.subList(5, 10), "two epochs in the same order");
        try (CachedDataset ds = open(cache, 2, 3, Posterior.SAMPLE)) {
            List<CachedDataset.Batch> again = batches(ds, 8);
            for (int i = 0; i < 8; i++) assertSameBatch(full.get(i), again.get(i), "batch " + i);
        }
        try (CachedDataset ds = open(cache, 2, 4, Posterior.SAMPLE)) {
            List<Integer> other = new ArrayList<>();
            for (CachedDataset.Batch b : batches(ds, 8)) for (int s : b.samples()) other.add(s);
            assertNotEquals(order, other, "another seed, the same order");
        }
        for (int k = 0; k <= 8; k++) {
            String saved;
            try (CachedDataset ds = open(cache, 2, 3, Posterior.SAMPLE)) {
                batches(ds, k);
                saved = Json.write(ds.position().toJson(), 0);
            }
            @SuppressWarnings("unchecked")
            CachedDataset.Position at = CachedDataset.Position.fromJson("position.json", (Map<String, Object>) Json.parse(saved));
            try (CachedDataset ds = CachedDataset.open(cache, new CachedDataset.Options(2, 3, Posterior.SAMPLE), at)) {
                List<CachedDataset.Batch> rest = batches(ds, 8 - k);
                for (int i = 0; i < rest.size(); i++) assertSameBatch(full.get(k + i), rest.get(i), "resumed after " + k + ", batch " + i);
            }
        }
    }

    @Test
    void x0IsTheScaledShiftedPackedPosterior() {
        try (CachedDataset mean = open(cache, 1, 3, Posterior.MEAN); CachedDataset sample = open(cache, 1, 3, Posterior.SAMPLE)) {
            assertEquals(4, mean.tokens());
            assertEquals(64, mean.tokenWidth());
            float scale = 0.3611f, shift = 0.1159f;
            double sum = 0, sumSq = 0;
            int n = 0;
            for (int i = 0; i < RECORDS; i++) {
                CachedDataset.Sample s = mean.sample(i);
                float[] z = Latents.unpack(mean.x0(s, 0), 16, 4, 4);
                for (int j = 0; j < z.length; j++) assertEquals((s.latentMean()[j] - shift) * scale, z[j], "sample " + i + " value " + j);
                float[] drawn = Latents.unpack(sample.x0(s, 0), 16, 4, 4);
                assertArrayEquals(drawn, Latents.unpack(sample.x0(s, 0), 16, 4, 4), "a draw is a function of seed, epoch and sample");
                assertFalse(Arrays.equals(drawn, Latents.unpack(sample.x0(s, 1), 16, 4, 4)), "each epoch draws anew");
                for (int j = 0; j < z.length; j++) {
                    double eps = (drawn[j] / scale + shift - s.latentMean()[j]) / Math.exp(0.5 * s.latentLogvar()[j]);
                    sum += eps;
                    sumSq += eps * eps;
                    n++;
                }
            }
            // the recovered noise is standard normal: over 1280 values the mean is within 5/sqrt(n) = 0.14
            // of 0 and the variance within 0.25 of 1 (its standard error is sqrt(2/n) = 0.04)
            double m = sum / n, var = sumSq / n - m * m;
            assertTrue(Math.abs(m) < 0.14, "noise mean " + m);
            assertTrue(Math.abs(var - 1) < 0.25, "noise variance " + var);
        }
    }

    @Test
    void batchesHoldTheSamplesInTheirOrder() {
        try (CachedDataset ds = open(cache, 3, 8, Posterior.MEAN)) {
            CachedDataset.Batch b = ds.next();
            int n = ds.tokens() * ds.tokenWidth(), t = MSL * 64;
            for (int k = 0; k < 3; k++) {
                CachedDataset.Sample s = ds.sample(b.samples()[k]);
                assertEquals(s.key(), b.keys().get(k));
                assertEquals(s.caption(), b.captions().get(k));
                assertArrayEquals(ds.x0(s, 0), Arrays.copyOfRange(b.x0(), k * n, (k + 1) * n));
                assertArrayEquals(s.promptEmbeds(), Arrays.copyOfRange(b.promptEmbeds(), k * t, (k + 1) * t));
            }
            assertEquals((MSL + 4) * 3, ds.positionIds().length);
        }
    }
}
