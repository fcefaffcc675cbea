package org.ovis4j.train.data;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.PositionEmbedding;
import org.ovis4j.pipeline.Latents;
import org.ovis4j.vae.LatentDistribution;

/**
 * Training batches from a latent cache ({@link CacheBuilder}): x0 = packed, scaled latents [B, N, 64],
 * prompt_embeds [B, msl, width], the samples' keys and captions, and the transformer's position ids
 * for that geometry. The cache files are memory-mapped; nothing is decoded or encoded again.
 *
 * <p>Order: each epoch is a seeded permutation of the whole cache (the cache is random access, so
 * there is no need for a shuffle buffer's approximation); batches run on across epoch boundaries, so
 * every batch is full. Latents: with {@link Posterior#SAMPLE} (as diffusers' training scripts,
 * {@code latent_dist.sample()}) each sample draws z = mean + exp(logvar/2)·ε afresh per epoch, ε from
 * ovis4j's {@link GaussianNoise} seeded by (seed, epoch, sample); with {@link Posterior#MEAN} z is the
 * mean. Then x0 = pack((z − shift_factor)·scaling_factor), the inverse of what the pipeline applies
 * before decoding. Every draw is a function of the seed, the epoch and the sample alone, so the whole
 * state between batches is {@link Position} (epoch, cursor) and resuming from it continues exactly.
 */
public final class CachedDataset implements AutoCloseable {
    /** Purposes of the random streams, folded into their seeds (distinct from {@link ShardStream}'s). */
    private static final long ORDER = 4, NOISE = 5;

    public enum Posterior {
        SAMPLE, MEAN;

        public String id() { return name().toLowerCase(Locale.ROOT); }
    }

    public record Options(int batchSize, long seed, Posterior posterior) {
        public Options {
            if (batchSize < 1) throw new OvisException("batch size must be at least 1 (got " + batchSize + ")");
        }
    }

    /** Between two batches: the epoch and how many of its samples were handed out. */
    public record Position(long seed, long epoch, long cursor) {
        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("seed", seed);
            m.put("epoch", epoch);
            m.put("cursor", cursor);
            return m;
        }

        public static Position fromJson(String where, Map<String, Object> json) {
            for (String k : List.of("seed", "epoch", "cursor"))
                if (!(json.get(k) instanceof Long)) throw new OvisException(where + ": missing integer key \"" + k + "\"");
            return new Position((Long) json.get("seed"), (Long) json.get("epoch"), (Long) json.get("cursor"));
        }
    }

    /** One cached record as stored: posterior CHW [C, h, w] and its text states [msl, width] (zero rows restored). */
    public record Sample(int index, String key, String caption, float[] latentMean, float[] latentLogvar, float[] promptEmbeds) {}

    /**
     * @param x0           packed latents [size, tokens, 4C]
     * @param promptEmbeds [size, msl, width]
     * @param samples      the samples' indices in the cache
     */
    public record Batch(int size, float[] x0, float[] promptEmbeds, List<String> keys, List<String> captions, int[] samples) {}

    private record Part(SafetensorsFile file, int first, List<String> keys, List<String> captions) {}

    private final CacheManifest manifest;
    private final Options options;
    private final Arena arena = Arena.ofShared();
    private final List<Part> parts = new ArrayList<>();
    private final int size;
    private final float[] emptyPrompt;
    private long epoch, cursor;
    private int[] order;

    private CachedDataset(Path dir, Options options, Position at) {
        this.options = options;
        try {
            this.manifest = CacheManifest.read(dir);
            String settings = CacheManifest.settingsJson(manifest.settings());
            int first = 0;
            for (CacheManifest.Shard s : manifest.shards()) {
                Path p = dir.resolve(s.file());
                SafetensorsFile f = SafetensorsFile.read(p, arena);
                Map<String, String> meta = f.metadata();
                if (!settings.equals(meta.get("settings")))
                    throw new OvisException(p + ": built with other settings than " + dir.resolve(CacheManifest.FILE) + " says");
                List<String> keys = strings(p, meta, "keys"), captions = strings(p, meta, "captions");
                if (keys.size() != s.records() || captions.size() != s.records())
                    throw new OvisException(p + ": holds " + keys.size() + " records, " + CacheManifest.FILE + " says " + s.records());
                parts.add(new Part(f, first, keys, captions));
                first += s.records();
            }
            this.size = first;
            if (size == 0) throw new OvisException(dir + ": the cache holds no records");
            Path empty = dir.resolve(CacheManifest.EMPTY_PROMPT);
            Tensor e = tensor(SafetensorsFile.read(empty, arena), "prompt_embeds");
            e.expectShape(manifest.maxSequenceLength(), manifest.textWidth());
            this.emptyPrompt = e.toFloats();
            if (at.seed() != options.seed())
                throw new OvisException("data position was saved with seed " + at.seed() + ", not " + options.seed());
            if (at.epoch() < 0 || at.cursor() < 0 || at.cursor() > size)
                throw new OvisException("data position epoch " + at.epoch() + " sample " + at.cursor() + " is outside the cache of "
                        + size + " samples");
            startEpoch(at.epoch());
            this.cursor = at.cursor();
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** The cache in {@code dir} from its first batch. */
    public static CachedDataset open(Path dir, Options options) {
        return new CachedDataset(dir, options, new Position(options.seed(), 0, 0));
    }

    /** The cache in {@code dir}, continuing from a saved position. */
    public static CachedDataset open(Path dir, Options options, Position at) {
        return new CachedDataset(dir, options, at);
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Path p, Map<String, String> meta, String key) {
        String v = meta.get(key);
        if (v == null) throw new OvisException(p + ": metadata has no \"" + key + "\"");
        Object parsed = Json.parse(v);
        if (!(parsed instanceof List<?> l)) throw new OvisException(p + ": metadata \"" + key + "\" is not a list");
        List<String> out = new ArrayList<>();
        for (Object o : l) out.add(String.valueOf(o));
        return out;
    }

    private static Tensor tensor(SafetensorsFile f, String name) {
        Tensor t = f.tensors().get(name);
        if (t == null) throw new OvisException(f.path() + ": no tensor " + name);
        return t;
    }

    private void startEpoch(long e) {
        epoch = e;
        cursor = 0;
        order = new SeededRandom(SeededRandom.derive(options.seed(), ORDER, e)).permutation(size);
    }

    public CacheManifest manifest() { return manifest; }

    /** Samples in the cache (one epoch). */
    public int size() { return size; }

    /** Packed image tokens per sample, N = (h/2)(w/2). */
    public int tokens() { return (manifest.latentHeight() / 2) * (manifest.latentWidth() / 2); }

    /** Values per packed token (4 × latent channels, 64 for FLUX latents). */
    public int tokenWidth() { return 4 * manifest.latentChannels(); }

    /** The transformer's position ids [(msl + N), 3] (text rows, then the patch grid). */
    public float[] positionIds() {
        return PositionEmbedding.ids(manifest.maxSequenceLength(), manifest.latentHeight() / 2, manifest.latentWidth() / 2);
    }

    /** The empty prompt's text states [msl, width], for prompt dropout and the unconditional branch. */
    public float[] emptyPromptEmbeds() { return emptyPrompt.clone(); }

    /** A cached record as stored, by its index in the cache (cache shards in order, records in order). */
    public Sample sample(int index) {
        if (index < 0 || index >= size) throw new IndexOutOfBoundsException("sample " + index + " of " + size);
        Part p = part(index);
        int j = index - p.first();
        int c = manifest.latentChannels(), h = manifest.latentHeight(), w = manifest.latentWidth();
        int msl = manifest.maxSequenceLength(), width = manifest.textWidth();
        float[] mean = tensor(p.file(), "latent_mean." + j).expectShape(c, h, w).toFloats();
        float[] logvar = tensor(p.file(), "latent_logvar." + j).expectShape(c, h, w).toFloats();
        Tensor t = tensor(p.file(), "prompt_embeds." + j);
        if (t.rank() != 2 || t.dim(0) > msl || t.dim(1) != width)
            throw new OvisException(p.file().path() + ": prompt_embeds." + j + " has shape " + java.util.Arrays.toString(t.shape())
                    + ", expected at most " + msl + " rows of " + width);
        float[] embeds = new float[msl * width];
        t.readFloats(0, embeds, 0, (int) t.numel());
        return new Sample(index, p.keys().get(j), p.captions().get(j), mean, logvar, embeds);
    }

    private Part part(int index) {
        int lo = 0, hi = parts.size() - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (parts.get(mid).first() <= index) lo = mid;
            else hi = mid - 1;
        }
        return parts.get(lo);
    }

    /** x0 [N, 4C] of sample {@code s} in {@code epoch}: the posterior drawn (or its mean), shifted, scaled, packed. */
    public float[] x0(Sample s, long epoch) {
        int c = manifest.latentChannels(), h = manifest.latentHeight(), w = manifest.latentWidth();
        float[] z = s.latentMean();
        if (options.posterior() == Posterior.SAMPLE) {
            float[] eps = GaussianNoise.sample(SeededRandom.derive(options.seed(), NOISE, epoch, s.index()), z.length);
            z = new LatentDistribution(s.latentMean(), s.latentLogvar(), c, h, w).sample(eps);
        }
        float scale = (float) manifest.scalingFactor(), shift = (float) manifest.shiftFactor();
        float[] scaled = new float[z.length];
        for (int i = 0; i < z.length; i++) scaled[i] = (z[i] - shift) * scale;
        return Latents.pack(scaled, c, h, w);
    }

    /** The next batch of {@code batchSize} samples. */
    public Batch next() {
        int b = options.batchSize(), n = tokens() * tokenWidth(), t = manifest.maxSequenceLength() * manifest.textWidth();
        float[] x0 = new float[b * n], embeds = new float[b * t];
        List<String> keys = new ArrayList<>(b), captions = new ArrayList<>(b);
        int[] samples = new int[b];
        for (int k = 0; k < b; k++) {
            if (cursor == size) startEpoch(epoch + 1);
            Sample s = sample(order[(int) cursor++]);
            System.arraycopy(x0(s, epoch), 0, x0, k * n, n);
            System.arraycopy(s.promptEmbeds(), 0, embeds, k * t, t);
            keys.add(s.key());
            captions.add(s.caption());
            samples[k] = s.index();
        }
        return new Batch(b, x0, embeds, List.copyOf(keys), List.copyOf(captions), samples);
    }

    /** The state after the last batch; {@link #open(Path, Options, Position)} continues from it. */
    public Position position() {
        return new Position(options.seed(), epoch, cursor);
    }

    /** The epoch the last sample handed out belongs to. */
    public long epoch() { return epoch; }

    @Override
    public void close() {
        arena.close();
    }
}
