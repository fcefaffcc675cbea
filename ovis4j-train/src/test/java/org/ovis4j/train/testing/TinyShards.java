package org.ovis4j.train.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
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

/**
 * Small training data sets in the data engine's layout (tar shards of KEY.png + KEY.json and a
 * manifest.json), made without fonts: record k's image is a smooth pattern of (k, x, y) and its
 * caption names k, so every record differs from every other one in image and text.
 */
public final class TinyShards {
    private TinyShards() {}

    /** The RGB pixels (HWC) of record {@code k}. */
    public static byte[] rgb(int w, int h, int k) {
        byte[] rgb = new byte[w * h * 3];
        double fx = 1 + k % 3, fy = 1 + (k / 3) % 3, phase = 0.7 * k;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) {
                    double v = Math.sin(2 * Math.PI * (fx * x / w + c / 3.0) + phase) * Math.cos(2 * Math.PI * fy * y / h - c);
                    rgb[(y * w + x) * 3 + c] = (byte) Math.round(127.5 + 120 * v);
                }
        return rgb;
    }

    /** {@code shards} shards of {@code perShard} records each, w x h pixels; returns the folder. */
    public static Path write(Path dir, int shards, int perShard, int w, int h) throws IOException {
        Files.createDirectories(dir);
        List<Object> list = new ArrayList<>();
        String[] words = {"red", "green", "blue", "yellow", "white", "black", "orange", "purple"};
        int key = 0;
        for (int s = 0; s < shards; s++) {
            String name = String.format("shard-%06d.tar", s);
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            try (TarWriter t = new TarWriter(bos)) {
                for (int r = 0; r < perShard; r++, key++) {
                    String k = String.format("%06d", key);
                    t.add(k + ".png", PngWriter.encode(rgb(w, h, key), w, h, null));
                    Map<String, Object> meta = new LinkedHashMap<>();
                    meta.put("id", k);
                    meta.put("prompt", "a " + words[key % words.length] + " sign that says \"" + key + "\"");
                    t.add(k + ".json", Json.write(meta, 0).getBytes(StandardCharsets.UTF_8));
                }
            }
            Files.write(dir.resolve(name), bos.toByteArray());
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("file", name);
            e.put("samples", (long) perShard);
            e.put("bytes", (long) bos.size());
            list.add(e);
        }
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("format", "webdataset");
        manifest.put("shards", list);
        Files.writeString(dir.resolve("manifest.json"), Json.write(manifest, 2));
        return dir;
    }
}
