package org.ovis4j.train.data;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.safetensors.FloatEncoder;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.ProgressListener;
import org.ovis4j.tokenizer.OvisPrompt;
import org.ovis4j.vae.LatentDistribution;
import org.ovis4j.vae.VaeConfig;

/**
 * Builds a latent cache from tar shards: every record's image is preprocessed ({@link Preprocessing})
 * and encoded once by the model's VAE encoder, every caption once by the text encoder exactly as the
 * pipeline encodes a prompt ({@link OvisImage#encodePrompt}), so that training the transformer never
 * runs the frozen parts again.
 *
 * <p>Layout: source shard i becomes {@code cache-0000i.safetensors} holding, per record j,
 * {@code latent_mean.j} and {@code latent_logvar.j} [C, h, w] (the VAE posterior, unscaled, logvar
 * clamped as diffusers does: training draws z = mean + exp(logvar/2)·ε with its own seed and then
 * applies (z − shift)·scale, see {@link CachedDataset}) and {@code prompt_embeds.j} [rows, width], all
 * float32. Only the rows before the padding are stored (rows = real tokens − 28, at most msl): the
 * pipeline's pad rows are exactly zero, so a reader restores the [msl, width] states bit for bit by
 * appending zero rows, and a short caption of the 7B costs a few hundred KiB instead of 2 MiB. The
 * file's metadata holds the keys, the captions, the source shard and the settings.
 * {@code empty-prompt.safetensors} holds the empty prompt's [msl, width] states (for prompt dropout
 * and guidance), and {@code cache.json} ({@link CacheManifest}) is written last.
 *
 * <p>Every file is written under a temporary name and renamed when complete, so an interrupted build
 * leaves only complete cache shards; building again into the same folder checks each one against the
 * settings and its source and skips it, then builds the rest.
 */
public final class CacheBuilder {
    /** Progress and warnings of a build; called on the building thread. */
    public interface Listener {
        /** Shard {@code index} of {@code count} is built now, or was found complete ({@code skipped}). */
        default void onShard(int index, int count, Path file, boolean skipped) {}

        /** A record was encoded. */
        default void onRecord(int shard, int record) {}

        /** Something to know that does not stop the build (a caption cut to the max sequence length). */
        default void onWarning(String message) {}

        Listener NONE = new Listener() {};
    }

    public record Summary(int shards, int built, int skipped, long records, Path manifest) {}

    /** A record encoded: posterior CHW [C, h, w] twice, text states [rows, width]. */
    private record Encoded(float[] mean, float[] logvar, float[] embeds) {}

    private final OvisImage model;
    private final Preprocessing preprocessing;
    private final int maxSequenceLength;
    /** Records preprocessed together (in parallel) before they are encoded one by one. */
    private final int chunk;

    public CacheBuilder(OvisImage model, Preprocessing preprocessing, int maxSequenceLength) {
        if (maxSequenceLength < 1 || maxSequenceLength > 256)
            throw new OvisException("max sequence length must be between 1 and 256, got " + maxSequenceLength);
        this.model = model;
        this.preprocessing = preprocessing;
        this.maxSequenceLength = maxSequenceLength;
        this.chunk = Math.max(2, 2 * Parallel.threads());
    }

    /** What a cache was built with; stored in every file and compared when a build resumes. */
    public Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("model", model.folder().root().toAbsolutePath().normalize().toString());
        s.put("precision", model.precision().name().toLowerCase(java.util.Locale.ROOT));
        s.put("width", (long) preprocessing.width());
        s.put("height", (long) preprocessing.height());
        s.put("resize", preprocessing.resize().id());
        s.put("crop", preprocessing.crop().id());
        s.put("seed", preprocessing.seed());
        s.put("max_sequence_length", (long) maxSequenceLength);
        return s;
    }

    private VaeConfig vae() {
        return model.vae().config();
    }

    private int latentH() { return preprocessing.height() / vae().downscale(); }
    private int latentW() { return preprocessing.width() / vae().downscale(); }

    public Summary build(ShardSet data, Path out, Listener listener) {
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new OvisException(out + ": cannot create the cache folder (" + e.getMessage() + ")");
        }
        removePartials(out);
        String settings = CacheManifest.settingsJson(settings());
        Path old = out.resolve(CacheManifest.FILE);
        if (Files.isRegularFile(old)) {
            String was = CacheManifest.settingsJson(CacheManifest.read(out).settings());
            if (!was.equals(settings)) throw new OvisException(old + ": " + difference(was, settings) + "; use another cache folder");
        }
        writeEmptyPrompt(out, settings);
        List<CacheManifest.Shard> done = new ArrayList<>();
        int built = 0, skipped = 0;
        for (ShardSet.Shard shard : data.shards()) {
            Path file = out.resolve(CacheManifest.shardFile(shard.index()));
            int complete = completeRecords(file, shard, settings);
            if (complete >= 0) {
                listener.onShard(shard.index(), data.size(), file, true);
                skipped++;
            } else {
                listener.onShard(shard.index(), data.size(), file, false);
                complete = buildShard(shard, file, settings, listener);
                built++;
            }
            done.add(new CacheManifest.Shard(file.getFileName().toString(), shard.name(), complete));
        }
        VaeConfig v = vae();
        new CacheManifest(settings(), v.latentChannels(), latentH(), latentW(), v.scalingFactor(), v.shiftFactor(),
                maxSequenceLength, model.textEncoder().hiddenSize(), done).write(out);
        long records = done.stream().mapToLong(CacheManifest.Shard::records).sum();
        return new Summary(data.size(), built, skipped, records, out.resolve(CacheManifest.FILE));
    }

    /** What changed between two settings texts, for the one-line error. */
    @SuppressWarnings("unchecked")
    private static String difference(String was, String now) {
        Map<String, Object> a = (Map<String, Object>) Json.parse(was), b = (Map<String, Object>) Json.parse(now);
        for (String k : b.keySet())
            if (!String.valueOf(a.get(k)).equals(String.valueOf(b.get(k))))
                return "cache was built with " + k + " " + a.get(k) + ", not " + b.get(k);
        return "cache was built with other settings";
    }

    /** Files a killed build left under their temporary names: never complete, never read. */
    private static void removePartials(Path out) {
        try (DirectoryStream<Path> d = Files.newDirectoryStream(out, "*.partial")) {
            for (Path p : d) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new OvisException(out + ": cannot clean up unfinished files (" + e.getMessage() + ")");
        }
    }

    /** The records of a complete cache shard built from this source with these settings, or −1 if it does not exist. */
    private static int completeRecords(Path file, ShardSet.Shard shard, String settings) {
        if (!Files.isRegularFile(file)) return -1;
        try (Arena arena = Arena.ofConfined()) {
            Map<String, String> meta = SafetensorsFile.open(file, arena).metadata();
            if (!settings.equals(meta.get("settings")))
                throw new OvisException(file + ": " + difference(meta.getOrDefault("settings", "{}"), settings)
                        + "; delete it or use another cache folder");
            long bytes = Files.size(shard.path());
            if (!shard.name().equals(meta.get("source")) || !Long.toString(bytes).equals(meta.get("source_bytes")))
                throw new OvisException(file + ": was built from " + meta.get("source") + " of " + meta.get("source_bytes")
                        + " bytes, not " + shard.name() + " of " + bytes + " bytes; delete it or use another cache folder");
            String records = meta.get("records");
            if (records == null || !records.matches("\\d+")) throw new OvisException(file + ": not a cache shard (no record count)");
            return Integer.parseInt(records);
        } catch (IOException e) {
            throw new OvisException(shard.path() + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private void writeEmptyPrompt(Path out, String settings) {
        Path file = out.resolve(CacheManifest.EMPTY_PROMPT);
        if (Files.isRegularFile(file)) {
            try (Arena arena = Arena.ofConfined()) {
                if (settings.equals(SafetensorsFile.open(file, arena).metadata().get("settings"))) return;
            }
        }
        float[] embeds = model.encodePrompt("", maxSequenceLength, ProgressListener.NONE);
        new SafetensorsWriter()
                .metadata("format", CacheManifest.FORMAT)
                .metadata("settings", settings)
                .addFloats("prompt_embeds", DType.F32, new long[] {maxSequenceLength, model.textEncoder().hiddenSize()}, embeds)
                .write(file);
    }

    private int buildShard(ShardSet.Shard shard, Path file, String settings, Listener listener) {
        // Pass 1, captions only (images skipped unread): keys, and the tensor shapes the header needs first.
        List<String> keys = new ArrayList<>(), captions = new ArrayList<>();
        List<Integer> rows = new ArrayList<>();
        try (ShardReader r = new ShardReader(shard)) {
            for (ShardRecord rec; (rec = r.next(ShardReader.Read.CAPTION)) != null; ) {
                OvisPrompt.Encoded enc = OvisPrompt.encode(model.tokenizer(), rec.caption(), maxSequenceLength);
                if (enc.truncated())
                    listener.onWarning(rec.where() + ": caption is " + enc.untruncatedTokens() + " tokens with the template; cut to "
                            + enc.validTokens() + " (max sequence length " + maxSequenceLength + " + " + OvisPrompt.DROPPED_ROWS + ")");
                keys.add(rec.key());
                captions.add(rec.caption());
                rows.add(Math.max(0, enc.validTokens() - OvisPrompt.DROPPED_ROWS));
            }
        }
        if (shard.records() >= 0 && shard.records() != keys.size())
            throw new OvisException(shard.path() + ": " + keys.size() + " records, the data set's manifest says " + shard.records());
        // Pass 2: images and captions, encoded as the writer asks for each record's first tensor.
        int c = vae().latentChannels(), width = model.textEncoder().hiddenSize();
        long[] latentShape = {c, latentH(), latentW()};
        try (ShardReader r = new ShardReader(shard)) {
            Encodings enc = new Encodings(shard, r, keys, rows, width, listener);
            SafetensorsWriter w = new SafetensorsWriter()
                    .metadata("format", CacheManifest.FORMAT)
                    .metadata("settings", settings)
                    .metadata("source", shard.name())
                    .metadata("source_bytes", Long.toString(Files.size(shard.path())))
                    .metadata("records", Integer.toString(keys.size()))
                    .metadata("keys", Json.write(new ArrayList<Object>(keys), 0))
                    .metadata("captions", Json.write(new ArrayList<Object>(captions), 0));
            if (shard.sha256() != null) w.metadata("source_sha256", shard.sha256());
            for (int i = 0; i < keys.size(); i++) {
                int at = i;
                w.add("latent_mean." + i, DType.F32, latentShape, o -> floats(o, enc.get(at).mean(), enc.get(at).mean().length));
                w.add("latent_logvar." + i, DType.F32, latentShape, o -> floats(o, enc.get(at).logvar(), enc.get(at).logvar().length));
                w.add("prompt_embeds." + i, DType.F32, new long[] {rows.get(i), width},
                        o -> floats(o, enc.get(at).embeds(), rows.get(at) * width));
            }
            w.write(file);
        } catch (IOException e) {
            throw new OvisException(shard.path() + ": cannot read (" + e.getMessage() + ")");
        }
        return keys.size();
    }

    private static void floats(OutputStream out, float[] v, int count) throws IOException {
        FloatEncoder.write(v, 0, count, DType.F32, out);
    }

    /**
     * The second pass of one shard, a chunk of records at a time: read (streaming), preprocess in
     * parallel, then encode one by one (each encoder parallelises inside on the model's pool).
     */
    private final class Encodings {
        private final ShardSet.Shard shard;
        private final ShardReader reader;
        private final List<String> keys;
        private final List<Integer> rows;
        private final int width;
        private final Listener listener;
        private Encoded[] current = new Encoded[0];
        private int start;

        Encodings(ShardSet.Shard shard, ShardReader reader, List<String> keys, List<Integer> rows, int width, Listener listener) {
            this.shard = shard;
            this.reader = reader;
            this.keys = keys;
            this.rows = rows;
            this.width = width;
            this.listener = listener;
        }

        Encoded get(int i) {
            if (i >= start + current.length) advance(i);
            return current[i - start];
        }

        private void advance(int first) {
            int n = Math.min(chunk, keys.size() - first);
            ShardRecord[] recs = new ShardRecord[n];
            for (int k = 0; k < n; k++) {
                recs[k] = reader.next(ShardReader.Read.ALL);
                if (recs[k] == null || !recs[k].key().equals(keys.get(first + k)))
                    throw new OvisException(shard.path() + ": changed while the cache was built (record " + (first + k) + ")");
            }
            float[][] images = new float[n][];
            RuntimeException[] failed = new RuntimeException[n];
            Parallel.forEach(n, k -> {
                try {
                    images[k] = preprocessing.apply(recs[k]);
                } catch (RuntimeException e) {
                    failed[k] = e;
                }
            });
            for (RuntimeException e : failed) if (e != null) throw e; // the first bad record by position, not by timing
            Encoded[] out = new Encoded[n];
            for (int k = 0; k < n; k++) {
                LatentDistribution d = model.vae().encode(images[k], preprocessing.height(), preprocessing.width());
                float[] embeds = model.encodePrompt(recs[k].caption(), maxSequenceLength, ProgressListener.NONE);
                int kept = rows.get(first + k) * width;
                for (int j = kept; j < embeds.length; j++)
                    if (embeds[j] != 0)
                        throw new IllegalStateException(recs[k].where() + ": text state row " + j / width + " is not padding");
                out[k] = new Encoded(d.mean(), d.logvar(), embeds);
                listener.onRecord(shard.index(), first + k);
            }
            current = out;
            start = first;
        }
    }
}
