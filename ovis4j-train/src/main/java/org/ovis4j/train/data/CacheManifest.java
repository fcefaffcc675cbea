package org.ovis4j.train.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;
import org.ovis4j.core.json.Json;

/**
 * {@code cache.json}, the index of a latent cache, written after every cache shard is complete: the
 * build settings (model, precision, training size, resize and crop, seed, max sequence length), the
 * shapes a reader needs (latent [channels, height, width] and the VAE's scaling and shift, the text
 * states' rows and width), the empty prompt's file and the shards with their sources and counts.
 */
public record CacheManifest(Map<String, Object> settings, int latentChannels, int latentHeight, int latentWidth,
                            double scalingFactor, double shiftFactor, int maxSequenceLength, int textWidth,
                            List<Shard> shards) {
    public static final String FILE = "cache.json", FORMAT = "ovis4j-latent-cache", EMPTY_PROMPT = "empty-prompt.safetensors";
    public static final long VERSION = 1;

    /** One cache shard: its file, the tar shard it was built from, and its record count. */
    public record Shard(String file, String source, int records) {}

    public CacheManifest {
        settings = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(settings)); // keeps the key order
        shards = List.copyOf(shards);
    }

    /** cache-00000.safetensors for source shard 0, and so on. */
    public static String shardFile(int index) {
        return String.format("cache-%05d.safetensors", index);
    }

    public long records() {
        long n = 0;
        for (Shard s : shards) n += s.records();
        return n;
    }

    /** Settings as canonical JSON text: stored in every cache file, compared on resume. */
    public static String settingsJson(Map<String, Object> settings) {
        return Json.write(settings, 0);
    }

    public void write(Path dir) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("settings", settings);
        Map<String, Object> latent = new LinkedHashMap<>();
        latent.put("channels", (long) latentChannels);
        latent.put("height", (long) latentHeight);
        latent.put("width", (long) latentWidth);
        latent.put("scaling_factor", scalingFactor);
        latent.put("shift_factor", shiftFactor);
        m.put("latent", latent);
        Map<String, Object> text = new LinkedHashMap<>();
        text.put("max_sequence_length", (long) maxSequenceLength);
        text.put("width", (long) textWidth);
        m.put("text", text);
        m.put("empty_prompt", EMPTY_PROMPT);
        m.put("records", records());
        List<Object> list = new ArrayList<>();
        for (Shard s : shards) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("file", s.file());
            e.put("source", s.source());
            e.put("records", (long) s.records());
            list.add(e);
        }
        m.put("shards", list);
        Path target = dir.resolve(FILE), tmp = dir.resolve(FILE + ".partial");
        try {
            Files.writeString(tmp, Json.write(m, 2) + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new OvisException(target + ": cannot write (" + e.getMessage() + ")");
        }
    }

    @SuppressWarnings("unchecked")
    public static CacheManifest read(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file))
            throw new OvisException(file + ": not found (the cache build did not finish; run it again to complete it)");
        Config c = Config.read(file);
        if (!FORMAT.equals(c.getString("format", null)) || c.getInt("version", -1) != VERSION)
            throw new OvisException(file + ": not a version " + VERSION + " " + FORMAT + " index");
        Config latent = c.child("latent"), text = c.child("text"), settings = c.child("settings");
        if (latent == null || text == null || settings == null)
            throw new OvisException(file + ": missing key \"" + (latent == null ? "latent" : text == null ? "text" : "settings") + "\"");
        if (!(c.map().get("shards") instanceof List<?> entries)) throw new OvisException(file + ": missing key \"shards\"");
        List<Shard> shards = new ArrayList<>();
        for (Object o : entries) {
            if (!(o instanceof Map<?, ?> e)) throw new OvisException(file + ": shard entry " + shards.size() + " is not an object");
            Config s = new Config(file + ": shard " + shards.size(), (Map<String, Object>) e);
            shards.add(new Shard(s.getString("file"), s.getString("source"), s.getInt("records")));
        }
        return new CacheManifest(settings.map(), latent.getInt("channels"), latent.getInt("height"), latent.getInt("width"),
                latent.getDouble("scaling_factor"), latent.getDouble("shift_factor"), text.getInt("max_sequence_length"),
                text.getInt("width"), shards);
    }
}
