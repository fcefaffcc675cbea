package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.json.Json;
import org.ovis4j.train.testing.TinyShards;
import org.ovis4j.train.testing.TrainingGoldens;

/** Configs of small runs on the tiny golden model and a hand-made data set. */
final class RunFixtures {
    private RunFixtures() {}

    /** 8 records of 32x32 pixels (2 shards of 4): 4 image tokens and short captions per sample. */
    static Path shards(Path dir) throws IOException {
        return TinyShards.write(dir.resolve("shards"), 2, 4, 32, 32);
    }

    /** The tiny checkpoint copied into {@code dir}/model (checkpoints link to their base; see TrainingGoldens.copyTinyModel). */
    static Path model(Path dir) {
        Path m = dir.resolve("model");
        return Files.isDirectory(m) ? m : TrainingGoldens.copyTinyModel(m);
    }

    /** A full fine-tuning config of {@code model} as a mutable JSON map. */
    static Map<String, Object> config(Path model, Path shards, Path cache, Path output) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model", model.toString());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("shards", shards.toString());
        data.put("cache", cache.toString());
        data.put("width", 32L);
        data.put("height", 32L);
        data.put("max_sequence_length", 24L);
        data.put("posterior", "mean");
        c.put("data", data);
        c.put("batch_size", 8L);
        c.put("steps", 200L);
        Map<String, Object> opt = new LinkedHashMap<>();
        opt.put("lr", 1e-3);
        c.put("optimizer", opt);
        c.put("seed", 7L);
        c.put("checkpoint_every", 100L);
        c.put("output", output.toString());
        return c;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> child(Map<String, Object> c, String key) {
        return (Map<String, Object>) c.computeIfAbsent(key, k -> new LinkedHashMap<String, Object>());
    }

    static Path write(Path file, Map<String, Object> config) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, Json.write(config, 2));
        return file;
    }

    static TrainConfig read(Path dir, String name, Map<String, Object> config) throws IOException {
        return TrainConfig.read(write(dir.resolve(name), config));
    }

    static List<String> list(String... s) {
        return List.of(s);
    }
}
