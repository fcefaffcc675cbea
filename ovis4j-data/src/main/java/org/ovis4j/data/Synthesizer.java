package org.ovis4j.data;

import org.ovis4j.core.io.FileTrees;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.image.PngWriter;
import org.ovis4j.core.json.Json;
import org.ovis4j.data.filter.DuplicateIndex;
import org.ovis4j.data.filter.PerceptualHash;
import org.ovis4j.data.filter.QualityFilter;
import org.ovis4j.data.render.FontCatalog;
import org.ovis4j.data.render.Lang;
import org.ovis4j.data.render.Metadata;
import org.ovis4j.data.shard.ShardWriter;

/**
 * The synth pipeline: generate, filter, de-duplicate, write shards and a manifest. Rendering and PNG
 * encoding run in parallel; accepting or rejecting happens in index order on one thread, so which
 * samples survive (and hence every output byte) depends on the seed alone, not on thread timing.
 * Everything is written into a hidden sibling folder that is renamed to the output at the end.
 */
public final class Synthesizer {
    /**
     * @param count        samples to keep (generation continues past dropped ones until this many pass)
     * @param shardSize    samples per tar shard
     * @param clean        OCR-ground-truth style (see {@link org.ovis4j.data.render.SampleGenerator})
     * @param minContrast  quality filter threshold (WCAG ratio)
     * @param dupDistance  pHash Hamming distance at or below which a sample is a near duplicate; -1 disables
     * @param files        also write images/KEY.png and prompts.jsonl, the input the evaluator takes
     */
    public record Options(int count, Path out, long seed, List<Lang> langs, int width, int height, int shardSize,
                          boolean clean, double minContrast, int dupDistance, int threads, boolean files) {
        public Options(int count, Path out, long seed, List<Lang> langs, int width, int height, int shardSize,
                       boolean clean, double minContrast, int dupDistance, int threads) {
            this(count, out, seed, langs, width, height, shardSize, clean, minContrast, dupDistance, threads, false);
        }

        public Options {
            if (count <= 0) throw new OvisException("--count must be at least 1 (got " + count + ")");
            if (width < 64 || height < 64 || width > 4096 || height > 4096) {
                throw new OvisException("--width and --height must be between 64 and 4096 (got " + width + "x" + height + ")");
            }
            if (shardSize <= 0) throw new OvisException("--shard-size must be at least 1 (got " + shardSize + ")");
            if (threads <= 0) throw new OvisException("--threads must be at least 1 (got " + threads + ")");
            if (langs.isEmpty()) throw new OvisException("--lang names no language (use en, zh or en,zh)");
        }
    }

    public record Dropped(String key, String reason, String detail) {}

    public record Summary(int kept, int generated, Map<String, Integer> droppedByReason, List<Dropped> dropped,
                          List<ShardWriter.ShardInfo> shards, double seconds) {
        public double imagesPerSecond() {
            return generated / seconds;
        }
    }

    private record Prepared(long index, String key, byte[] png, byte[] json, long hash, String text, QualityFilter.Verdict verdict) {}

    public static Summary run(Options o) {
        return run(o, FontCatalog.system());
    }

    public static Summary run(Options o, FontCatalog fonts) {
        return run(o, new TypographySource(o.seed(), o.langs(), o.width(), o.height(), o.clean(), fonts));
    }

    /**
     * Runs the pipeline over any source; {@code o}'s languages and clean flag are then the source's
     * business (the manifest records what the source describes).
     */
    public static Summary run(Options o, SampleSource source) {
        long start = System.nanoTime();
        Path out = o.out().toAbsolutePath().normalize();
        checkOutput(out);
        Path parent = out.getParent();
        Path tmp;
        try {
            Files.createDirectories(parent);
            tmp = Files.createTempDirectory(parent, "." + out.getFileName() + ".partial-");
        } catch (IOException e) {
            throw new OvisException("cannot create output folder next to " + out + " (" + e.getMessage() + ")");
        }
        ExecutorService pool = Executors.newFixedThreadPool(o.threads(), r -> {
            Thread t = new Thread(r, "synth");
            t.setDaemon(true);
            return t;
        });
        ShardWriter shards = new ShardWriter(tmp, o.shardSize());
        try {
            QualityFilter filter = new QualityFilter(o.minContrast(), 2.0);
            DuplicateIndex dups = new DuplicateIndex(o.dupDistance());
            Map<String, Integer> byReason = new LinkedHashMap<>();
            for (QualityFilter.Reason r : QualityFilter.Reason.values()) byReason.put(r.id, 0);
            List<Dropped> dropped = new ArrayList<>();
            int kept = 0;
            long next = 0;
            // Allow for a generous drop rate before concluding the settings make passing impossible.
            long limit = 3L * o.count() + 100;
            int batch = o.threads() * 8;
            Path images = o.files() ? Files.createDirectories(tmp.resolve("images")) : null;
            StringBuilder prompts = new StringBuilder();
            while (kept < o.count()) {
                if (next >= limit) {
                    throw new OvisException("only " + kept + " of " + o.count() + " samples passed the filters after "
                            + next + " attempts; lower --min-contrast or raise --dup-distance");
                }
                List<Future<Prepared>> futures = new ArrayList<>();
                for (int i = 0; i < batch; i++) {
                    long index = next + i;
                    futures.add(pool.submit(() -> prepare(source, filter, index)));
                }
                for (Future<Prepared> f : futures) {
                    Prepared p = get(f);
                    next = p.index() + 1;
                    if (p.verdict() != null) {
                        byReason.merge(p.verdict().reason().id, 1, Integer::sum);
                        dropped.add(new Dropped(p.key(), p.verdict().reason().id, p.verdict().detail()));
                    } else {
                        DuplicateIndex.Match m = dups.find(p.hash(), p.text());
                        if (m != null) {
                            byReason.merge(QualityFilter.Reason.DUPLICATE.id, 1, Integer::sum);
                            dropped.add(new Dropped(p.key(), QualityFilter.Reason.DUPLICATE.id,
                                    "near duplicate of " + m.key() + " (pHash distance " + m.distance() + ")"));
                        } else {
                            dups.add(p.hash(), p.key(), p.text());
                            shards.add(p.key(), p.png(), p.json());
                            if (images != null) {
                                Files.write(images.resolve(p.key() + ".png"), p.png());
                                prompts.append(promptLine(p.json())).append('\n');
                            }
                            kept++;
                        }
                    }
                    if (kept == o.count()) break;
                }
            }
            shards.close();
            if (images != null) Files.writeString(tmp.resolve("prompts.jsonl"), prompts, StandardCharsets.UTF_8);
            // The manifest holds no timing: it is part of the output that must be identical for a seed.
            writeManifest(tmp, o, source, new Summary(kept, (int) next, byReason, dropped, shards.shards(), 0));
            publish(tmp, out);
            return new Summary(kept, (int) next, byReason, dropped, shards.shards(), (System.nanoTime() - start) / 1e9);
        } catch (IOException e) {
            throw new OvisException("cannot write shards in " + out + " (" + e.getMessage() + ")");
        } finally {
            pool.shutdownNow();
            shards.abort();
            FileTrees.deleteQuietly(tmp);
        }
    }

    private static Prepared prepare(SampleSource source, QualityFilter filter, long index) throws IOException {
        String key = String.format("%06d", index);
        SampleSource.Sample g = source.make(index, key);
        BufferedImage img = g.sample().image();
        QualityFilter.Verdict v = filter.check(g.sample());
        if (v != null) return new Prepared(index, key, null, null, 0, null, v);
        byte[] json = Json.write(g.record(), 1).getBytes(StandardCharsets.UTF_8);
        byte[] png = PngWriter.encode(rgb(img), img.getWidth(), img.getHeight(), null);
        String text = String.join("\n", g.texts());
        return new Prepared(index, key, png, json, PerceptualHash.of(img), text, null);
    }

    /** The evaluator's fields of a sample record, on one line. */
    @SuppressWarnings("unchecked")
    private static String promptLine(byte[] json) {
        Map<String, Object> m = (Map<String, Object>) Json.parse(new String(json, StandardCharsets.UTF_8));
        return Json.write(Metadata.ordered("id", m.get("id"), "prompt", m.get("prompt"), "texts", m.get("texts"),
                "lang", m.get("lang")), 0);
    }

    /** Packed RGB ints to the H·W·3 byte layout PngWriter takes. */
    public static byte[] rgb(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        int[] px = img.getRGB(0, 0, w, h, null, 0, w);
        byte[] out = new byte[w * h * 3];
        for (int i = 0; i < px.length; i++) {
            out[3 * i] = (byte) (px[i] >> 16);
            out[3 * i + 1] = (byte) (px[i] >> 8);
            out[3 * i + 2] = (byte) px[i];
        }
        return out;
    }

    private static Prepared get(Future<Prepared> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OvisException("interrupted");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof OvisException oe) throw oe;
            if (c instanceof IOException io) throw io;
            if (c instanceof UncheckedIOException uio) throw uio.getCause();
            if (c instanceof RuntimeException re) throw re;
            throw new IllegalStateException(c);
        }
    }

    private static void checkOutput(Path out) {
        if (Files.isRegularFile(out)) throw new OvisException(out + " is a file; --out must name a folder");
        if (Files.isDirectory(out)) {
            try (DirectoryStream<Path> d = Files.newDirectoryStream(out)) {
                if (d.iterator().hasNext()) throw new OvisException(out + " already exists and is not empty; choose a new --out folder");
            } catch (IOException e) {
                throw new OvisException("cannot read " + out + " (" + e.getMessage() + ")");
            }
        }
    }

    private static void writeManifest(Path dir, Options o, SampleSource source, Summary s) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "webdataset");
        m.put("generator", "ovis4j data synth");
        m.put("seed", o.seed());
        m.put("width", (long) o.width());
        m.put("height", (long) o.height());
        m.putAll(source.describe());
        m.put("count", (long) s.kept());
        m.put("generated", (long) s.generated());
        m.put("entries_per_sample", List.of("png", "json"));
        List<Object> list = new ArrayList<>();
        for (ShardWriter.ShardInfo si : s.shards()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("file", si.file());
            e.put("samples", (long) si.samples());
            e.put("bytes", si.bytes());
            e.put("sha256", si.sha256());
            e.put("first", si.firstKey());
            e.put("last", si.lastKey());
            list.add(e);
        }
        m.put("shards", list);
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("min_contrast", o.minContrast());
        f.put("dup_distance", (long) o.dupDistance());
        Map<String, Object> counts = new LinkedHashMap<>(s.droppedByReason());
        f.put("dropped", counts);
        List<Object> samples = new ArrayList<>();
        for (Dropped d : s.dropped()) samples.add(Metadata.ordered("key", d.key(), "reason", d.reason(), "detail", d.detail()));
        f.put("dropped_samples", samples);
        m.put("filter", f);
        Path tmp = dir.resolve("manifest.json.partial");
        Files.writeString(tmp, Json.write(m, 2) + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve("manifest.json"), StandardCopyOption.ATOMIC_MOVE);
    }

    private static void publish(Path tmp, Path out) throws IOException {
        if (Files.isDirectory(out)) Files.delete(out); // checked empty at the start
        try {
            // Temporary folders are created owner-only; the published data set is for everyone.
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system: keep the default permissions
        }
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
    }

}
