package org.ovis4j.data.shard;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.ovis4j.core.tar.TarWriter;

/**
 * Writes samples into numbered tar shards of at most {@code perShard} samples each, WebDataset
 * style: entries {@code KEY.png} and {@code KEY.json} next to each other. A shard is written under a
 * temporary name and renamed when complete, so a reader never sees half a shard.
 */
public final class ShardWriter implements AutoCloseable {
    /** What the manifest says about one finished shard. */
    public record ShardInfo(String file, int samples, long bytes, String sha256, String firstKey, String lastKey) {}

    private final Path dir;
    private final int perShard;
    private final List<ShardInfo> done = new ArrayList<>();
    private TarWriter tar;
    private MessageDigest digest;
    private Path partial;
    private int inShard;
    private String first, last;

    public ShardWriter(Path dir, int perShard) {
        if (perShard <= 0) throw new IllegalArgumentException("perShard must be positive");
        this.dir = dir;
        this.perShard = perShard;
    }

    public static String shardName(int n) {
        return String.format("shard-%06d.tar", n);
    }

    public void add(String key, byte[] png, byte[] json) throws IOException {
        if (tar == null) open();
        tar.add(key + ".png", png);
        tar.add(key + ".json", json);
        if (first == null) first = key;
        last = key;
        if (++inShard == perShard) finish();
    }

    private void open() throws IOException {
        partial = dir.resolve(shardName(done.size()) + ".partial");
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
        OutputStream os = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(partial), 1 << 20), digest);
        tar = new TarWriter(os);
        inShard = 0;
        first = null;
    }

    private void finish() throws IOException {
        tar.close();
        long bytes = tar.bytesWritten() + 1024;
        String name = shardName(done.size());
        Files.move(partial, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        done.add(new ShardInfo(name, inShard, bytes, HexFormat.of().formatHex(digest.digest()), first, last));
        tar = null;
    }

    public List<ShardInfo> shards() {
        return List.copyOf(done);
    }

    @Override
    public void close() throws IOException {
        if (tar != null) finish();
    }

    /** Drops an unfinished shard after a failure; the finished ones stay for the caller to remove. */
    public void abort() {
        try {
            if (tar != null) tar.close();
            if (partial != null) Files.deleteIfExists(partial);
        } catch (IOException ignored) {
            // best effort: the caller is already reporting the original failure
        }
        tar = null;
    }
}
