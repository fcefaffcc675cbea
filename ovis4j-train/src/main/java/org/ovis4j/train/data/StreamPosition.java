package org.ovis4j.train.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;

/**
 * Where a {@link ShardStream} is between two records: the epoch, the next record to read (the
 * {@code shard}-th shard of the epoch's order, record {@code record} in it), the shuffle buffer's
 * random state, and which records the buffer holds, in slot order. The buffer is saved as
 * references (shard, record) rather than contents, so a position is a few numbers per buffered record;
 * resuming reads those records back. Without the buffer's contents no resumed stream could continue
 * the same sequence, because the next picks choose among them.
 */
public record StreamPosition(long seed, int epoch, int shard, int record, long random, List<Ref> buffer) {
    /** A record by its shard's index in the {@link ShardSet} and its position in that shard. */
    public record Ref(int shard, int record) {}

    public StreamPosition {
        buffer = List.copyOf(buffer);
    }

    /** The start of epoch 0 of a stream with this seed. */
    static StreamPosition start(long seed) {
        return new StreamPosition(seed, 0, 0, 0, SeededRandom.derive(seed, 0, ShardStream.BUFFER), List.of());
    }

    /** As JSON values (the random state as 16 hex digits: JSON readers elsewhere keep only 53 bits of a number). */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seed", seed);
        m.put("epoch", (long) epoch);
        m.put("shard", (long) shard);
        m.put("record", (long) record);
        m.put("random", String.format("%016x", random));
        List<Object> refs = new ArrayList<>();
        for (Ref r : buffer) refs.add(List.of((long) r.shard(), (long) r.record()));
        m.put("buffer", refs);
        return m;
    }

    /** Reads what {@link #toJson} wrote; {@code where} names the file in errors. */
    public static StreamPosition fromJson(String where, Map<String, Object> json) {
        Config c = new Config(where, json);
        String hex = c.getString("random");
        long random;
        try {
            random = Long.parseUnsignedLong(hex, 16);
        } catch (NumberFormatException e) {
            throw new OvisException(where + ": \"random\" is not 16 hex digits: " + hex);
        }
        List<Ref> refs = new ArrayList<>();
        if (!(json.get("buffer") instanceof List<?> list)) throw new OvisException(where + ": missing key \"buffer\"");
        for (Object o : list) {
            if (!(o instanceof List<?> pair) || pair.size() != 2 || !(pair.get(0) instanceof Long s) || !(pair.get(1) instanceof Long r))
                throw new OvisException(where + ": \"buffer\" entries must be [shard, record] pairs, got " + o);
            refs.add(new Ref(Math.toIntExact(s), Math.toIntExact(r)));
        }
        Object seed = json.get("seed");
        if (!(seed instanceof Long s)) throw new OvisException(where + ": missing key \"seed\"");
        return new StreamPosition(s, c.getInt("epoch"), c.getInt("shard"), c.getInt("record"), random, refs);
    }
}
