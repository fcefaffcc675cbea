package org.ovis4j.train.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.image.PngWriter;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.tar.TarWriter;

/** Small hand-made data sets in the data engine's layout (tar shards of KEY.png + KEY.json, a manifest). */
final class TestShards {
    private TestShards() {}

    /** A w x h PNG whose pixels are a function of (seed, x, y, channel). */
    static byte[] png(int w, int h, int seed) {
        try {
            return PngWriter.encode(rgb(w, h, seed), w, h, null);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The pixels of {@link #png}, HWC bytes. */
    static byte[] rgb(int w, int h, int seed) {
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.length; i++) rgb[i] = (byte) (i * 37 + seed * 101 + (i / (3 * w)) * 11);
        return rgb;
    }

    static byte[] json(String key, String prompt) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", key);
        m.put("prompt", prompt);
        return Json.write(m, 0).getBytes(StandardCharsets.UTF_8);
    }

    /** {@code perShard.length} shards, shard s holding perShard[s] records with consecutive keys; returns the folder. */
    static Path write(Path dir, int w, int h, int... perShard) throws IOException {
        Files.createDirectories(dir);
        List<Object> shards = new ArrayList<>();
        int key = 0;
        for (int s = 0; s < perShard.length; s++) {
            String name = String.format("shard-%06d.tar", s);
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            try (TarWriter t = new TarWriter(bos)) {
                for (int r = 0; r < perShard[s]; r++, key++) {
                    String k = String.format("%06d", key);
                    t.add(k + ".png", png(w, h, key));
                    t.add(k + ".json", json(k, "caption number " + key));
                }
            }
            Files.write(dir.resolve(name), bos.toByteArray());
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("file", name);
            e.put("samples", (long) perShard[s]);
            e.put("bytes", (long) bos.size());
            shards.add(e);
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", "webdataset");
        manifest.put("shards", shards);
        Files.writeString(dir.resolve("manifest.json"), Json.write(manifest, 2));
        return dir;
    }

    /** One shard from explicit entries (name, contents), for damaged records. */
    static Path tar(Path file, Object... nameAndBytes) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); TarWriter t = new TarWriter(os)) {
            for (int i = 0; i < nameAndBytes.length; i += 2) t.add((String) nameAndBytes[i], (byte[]) nameAndBytes[i + 1]);
        }
        return file;
    }
}
