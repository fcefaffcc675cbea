package org.ovis4j.core.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.tensor.Tensor;

/**
 * The tensors of one model component: a single safetensors file, or shards listed by a
 * {@code *.safetensors.index.json}. All files are memory-mapped in one arena that {@link #close()}
 * releases.
 */
public final class TensorStore implements AutoCloseable {
    private final String origin;
    private final Arena arena;
    private final Map<String, Tensor> tensors;
    private final List<Path> files;

    private TensorStore(String origin, Arena arena, Map<String, Tensor> tensors, List<Path> files) {
        this.origin = origin;
        this.arena = arena;
        this.tensors = tensors;
        this.files = files;
    }

    /** Opens explicit files (e.g. {@code ovis_image.safetensors}); names must be unique across them. */
    public static TensorStore open(String origin, List<Path> paths) {
        Arena arena = Arena.ofShared();
        try {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (Path p : paths) {
                for (Tensor t : SafetensorsFile.open(p, arena).tensors().values()) {
                    if (all.put(t.name(), t) != null)
                        throw new OvisException(p + ": tensor " + t.name() + " also appears in another shard");
                }
            }
            return new TensorStore(origin, arena, Collections.unmodifiableMap(all), List.copyOf(paths));
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Opens a component folder: {@code <stem>.safetensors.index.json} if present (its
     * {@code weight_map} names the shards), otherwise every {@code *.safetensors} file in it.
     */
    public static TensorStore openFolder(Path dir) {
        return open(dir.toString(), weightFiles(dir));
    }

    /** The shards named by the folder's {@code *.safetensors.index.json}, else its {@code *.safetensors} files. */
    public static List<Path> weightFiles(Path dir) {
        if (!Files.isDirectory(dir)) throw new OvisException(dir + ": folder not found");
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> all = s.sorted().toList();
            List<Path> indexes = all.stream().filter(p -> p.getFileName().toString().endsWith(".safetensors.index.json")).toList();
            if (indexes.size() > 1) throw new OvisException(dir + ": more than one *.safetensors.index.json");
            if (indexes.size() == 1) return shardsOf(indexes.get(0));
            List<Path> files = all.stream().filter(p -> p.getFileName().toString().endsWith(".safetensors")).toList();
            if (files.isEmpty()) throw new OvisException(dir + ": no *.safetensors file");
            return files;
        } catch (IOException e) {
            throw new OvisException(dir + ": cannot list (" + e.getMessage() + ")");
        }
    }

    /** The shard files named by an index's {@code weight_map}, each checked to exist. */
    public static List<Path> shardsOf(Path index) {
        Map<String, Object> root;
        try {
            root = Json.parseObject(index);
        } catch (IOException e) {
            throw new OvisException(index + ": cannot read (" + e.getMessage() + ")");
        } catch (Json.JsonException e) {
            throw new OvisException(e.getMessage());
        }
        if (!(root.get("weight_map") instanceof Map<?, ?> map))
            throw new OvisException(index + ": missing key \"weight_map\"");
        Set<String> names = new LinkedHashSet<>();
        for (Object v : map.values()) names.add(String.valueOf(v));
        List<Path> out = new ArrayList<>();
        for (String n : names) {
            Path p = index.resolveSibling(n);
            if (!Files.isRegularFile(p)) throw new OvisException(index + ": shard " + n + " not found");
            out.add(p);
        }
        return out;
    }

    public String origin() { return origin; }
    public List<Path> files() { return files; }
    public Map<String, Tensor> tensors() { return tensors; }
    public boolean has(String name) { return tensors.containsKey(name); }

    /** The named tensor; a missing one is a one-line error naming the component. */
    public Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new OvisException(origin + ": missing tensor \"" + name + "\"");
        return t;
    }

    /** The arena that owns the mappings: use it for anything derived once from these weights. */
    public Arena arena() { return arena; }

    /**
     * Drops the mapped pages from this process's resident set (they stay in the page cache, and
     * come back on the next read as minor faults): for weights used in place and then idle.
     */
    public void unload() {
        for (Tensor t : tensors.values()) t.releasePages();
    }

    @Override
    public void close() {
        arena.close();
    }
}
