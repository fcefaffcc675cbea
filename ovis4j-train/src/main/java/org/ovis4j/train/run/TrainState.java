package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;
import org.ovis4j.core.json.Json;

/**
 * {@code state.json} of a checkpoint: everything besides the tensors that a resumed run needs to
 * continue exactly. Random draws are functions of (seed, step) ({@link org.ovis4j.train.sampling.RunSeeds},
 * the data's own seeded streams), so the seed, the step and the data position are the whole random
 * state; the optimizer's and EMA's step counts live in their own files.
 *
 * @param step          optimizer steps completed
 * @param fingerprint   the config's {@link TrainConfig#fingerprint()} (what is trained)
 * @param configSha256  its hash
 * @param data          where the data order is after the last batch, in the data source's own JSON form
 *                      (the latent cache's {@code CachedDataset.Position}, the shard stream's {@code StreamPosition})
 * @param cacheRecords  samples in the data (a resumed run must read the same data)
 * @param loss          the last step's loss
 */
record TrainState(long step, long steps, long seed, Map<String, Object> fingerprint, String configSha256,
                  Map<String, Object> data, long cacheRecords, double loss) {
    static final String FILE = "state.json", FORMAT = "ovis4j-train-state";
    static final long VERSION = 1;

    String json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("version", VERSION);
        m.put("step", step);
        m.put("steps", steps);
        m.put("seed", seed);
        m.put("loss", loss);
        m.put("data", data);
        m.put("cache_records", cacheRecords);
        m.put("config_sha256", configSha256);
        m.put("config", fingerprint);
        return Json.write(m, 2) + "\n";
    }

    @SuppressWarnings("unchecked")
    static TrainState read(Path dir) {
        Path file = dir.resolve(FILE);
        Config c = Config.read(file);
        if (!FORMAT.equals(c.getString("format", null)) || c.getInt("version", -1) != VERSION)
            throw new OvisException(file + ": not a version " + VERSION + " " + FORMAT + " file");
        Config data = c.child("data"), config = c.child("config");
        if (data == null || config == null) throw new OvisException(file + ": missing key \"" + (data == null ? "data" : "config") + "\"");
        return new TrainState(longKey(c, "step"), longKey(c, "steps"), longKey(c, "seed"), config.map(), c.getString("config_sha256"),
                data.map(), longKey(c, "cache_records"), c.getDouble("loss"));
    }

    private static long longKey(Config c, String key) {
        if (c.map().get(key) instanceof Long l) return l;
        throw new OvisException(c.where() + ": missing integer key \"" + key + "\"");
    }

    void write(RunFolder folder, Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        folder.writeAtomically(file, json());
    }
}
