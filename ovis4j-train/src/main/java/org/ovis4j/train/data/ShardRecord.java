package org.ovis4j.train.data;

/**
 * One image/caption pair of a tar shard (WebDataset: the entries that share a key, e.g.
 * {@code 000012.png} and {@code 000012.json}). {@code shard} is the shard's index in its
 * {@link ShardSet}, {@code index} the record's position in the shard (0-based); {@code image} holds
 * the encoded file (PNG or JPEG) and is null when only the caption was read.
 */
public record ShardRecord(int shard, String shardPath, int index, String key, byte[] image, String caption) {
    /** How errors name this record: the shard, the record's position and its key. */
    public String where() {
        return where(shardPath, index, key);
    }

    static String where(String shardPath, int index, String key) {
        return shardPath + ": record " + index + " (key " + key + ")";
    }
}
