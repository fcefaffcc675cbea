package org.ovis4j.train.data;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;

/**
 * The tar shards of one data set, in their canonical order (the order of the data engine's
 * manifest, else of their file names). Opening checks that every shard is there, so a missing shard
 * is reported before any work starts, naming the file.
 */
public final class ShardSet {
    /**
     * One shard; {@code records}, {@code bytes} and {@code sha256} come from the data engine's manifest
     * and are −1 / null when the shards came without one.
     */
    public record Shard(int index, Path path, long records, long bytes, String sha256) {
        public String name() {
            return path.getFileName().toString();
        }
    }

    private final Path root;
    private final List<Shard> shards;

    private ShardSet(Path root, List<Shard> shards) {
        this.root = root;
        this.shards = Collections.unmodifiableList(shards);
    }

    /**
     * A data set given as a folder (with the {@code manifest.json} that {@code ovis4j data synth}
     * writes, or else every {@code *.tar} in it by name), as such a manifest file, or as one tar file.
     */
    public static ShardSet open(Path source) {
        if (!Files.exists(source)) throw new OvisException(source + ": data set not found");
        if (Files.isRegularFile(source) && source.getFileName().toString().endsWith(".tar")) return of(List.of(source));
        Path manifest = Files.isDirectory(source) ? source.resolve("manifest.json") : source;
        if (Files.isRegularFile(manifest)) return fromManifest(manifest);
        List<Path> tars = new ArrayList<>();
        try (DirectoryStream<Path> d = Files.newDirectoryStream(source, "*.tar")) {
            for (Path p : d) tars.add(p);
        } catch (IOException e) {
            throw new OvisException(source + ": cannot list (" + e.getMessage() + ")");
        }
        if (tars.isEmpty()) throw new OvisException(source + ": no tar shards and no manifest.json in this folder");
        tars.sort(null);
        return of(tars);
    }

    /** The given shards, in the given order. */
    public static ShardSet of(List<Path> tars) {
        if (tars.isEmpty()) throw new OvisException("no tar shards given");
        List<Shard> list = new ArrayList<>();
        for (Path p : tars) {
            if (!Files.isRegularFile(p)) throw new OvisException(p + ": shard not found");
            list.add(new Shard(list.size(), p, -1, -1, null));
        }
        Path parent = tars.getFirst().toAbsolutePath().getParent();
        return new ShardSet(parent, list);
    }

    @SuppressWarnings("unchecked")
    private static ShardSet fromManifest(Path manifest) {
        Config c = Config.read(manifest);
        Object listed = c.map().get("shards");
        if (!(listed instanceof List<?> entries) || entries.isEmpty())
            throw new OvisException(manifest + ": no \"shards\" list");
        Path dir = manifest.toAbsolutePath().getParent();
        List<Shard> list = new ArrayList<>();
        for (Object o : entries) {
            if (!(o instanceof Map<?, ?> m)) throw new OvisException(manifest + ": shard entry " + list.size() + " is not an object");
            Config s = new Config(manifest + ": shard " + list.size(), (Map<String, Object>) m);
            Path p = dir.resolve(s.getString("file"));
            if (!Files.isRegularFile(p)) throw new OvisException(p + ": shard listed in " + manifest.getFileName() + " not found");
            long bytes = s.has("bytes") ? ((Number) s.map().get("bytes")).longValue() : -1;
            long size = size(p);
            if (bytes >= 0 && size != bytes)
                throw new OvisException(p + ": " + size + " bytes, " + manifest.getFileName() + " says " + bytes + " (incomplete copy?)");
            long records = s.has("samples") ? ((Number) s.map().get("samples")).longValue() : -1;
            list.add(new Shard(list.size(), p, records, bytes, s.getString("sha256", null)));
        }
        return new ShardSet(dir, list);
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw new OvisException(p + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** The folder the shards are in. */
    public Path root() {
        return root;
    }

    public List<Shard> shards() {
        return shards;
    }

    public int size() {
        return shards.size();
    }

    public Shard get(int index) {
        return shards.get(index);
    }
}
