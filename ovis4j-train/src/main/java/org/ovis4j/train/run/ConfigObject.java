package org.ovis4j.train.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.ovis4j.core.OvisException;

/**
 * One JSON object of a training config, read strictly: every key that is read is remembered, and
 * {@link #finish} rejects the rest, so a misspelt key is an error rather than a silently ignored
 * setting. Every error is one line naming the file and the key by its dotted path
 * ({@code train.json: missing key "optimizer.lr"}).
 */
final class ConfigObject {
    private final Path file;
    private final String prefix;
    private final Map<String, Object> map;
    private final Set<String> read = new LinkedHashSet<>();

    ConfigObject(Path file, String prefix, Map<String, Object> map) {
        this.file = file;
        this.prefix = prefix;
        this.map = map;
    }

    Path file() { return file; }

    /** The dotted path of a key of this object. */
    String path(String key) {
        return prefix.isEmpty() ? key : prefix + "." + key;
    }

    OvisException error(String key, String problem) {
        return new OvisException(file + ": key \"" + path(key) + "\" " + problem);
    }

    boolean has(String key) {
        read.add(key);
        return map.containsKey(key) && map.get(key) != null;
    }

    private Object required(String key) {
        read.add(key);
        Object v = map.get(key);
        if (v == null) throw new OvisException(file + ": missing key \"" + path(key) + "\"");
        return v;
    }

    String string(String key) {
        if (required(key) instanceof String s) return s;
        throw error(key, "must be a string, got " + map.get(key));
    }

    String string(String key, String dflt) {
        return has(key) ? string(key) : dflt;
    }

    long integer(String key) {
        if (required(key) instanceof Long l) return l;
        throw error(key, "must be an integer, got " + map.get(key));
    }

    long integer(String key, long dflt) {
        return has(key) ? integer(key) : dflt;
    }

    /** A required integer in [min, max]. */
    int integer(String key, long min, long max) {
        long v = integer(key);
        if (v < min || v > max) throw error(key, "must be between " + min + " and " + max + ", got " + v);
        return (int) v;
    }

    /** An integer in [min, max]. */
    int integer(String key, long dflt, long min, long max) {
        long v = integer(key, dflt);
        if (v < min || v > max) throw error(key, "must be between " + min + " and " + max + ", got " + v);
        return (int) v;
    }

    double number(String key) {
        if (required(key) instanceof Number n && Double.isFinite(n.doubleValue())) return n.doubleValue();
        throw error(key, "must be a number, got " + map.get(key));
    }

    double number(String key, double dflt) {
        return has(key) ? number(key) : dflt;
    }

    boolean bool(String key, boolean dflt) {
        if (!has(key)) return dflt;
        if (map.get(key) instanceof Boolean b) return b;
        throw error(key, "must be true or false, got " + map.get(key));
    }

    /** One of {@code choices} (lower case), or {@code dflt} when absent. */
    String choice(String key, String dflt, String... choices) {
        String v = string(key, dflt);
        for (String c : choices) if (c.equals(v)) return v;
        throw error(key, "must be one of " + String.join(", ", choices) + ", got \"" + v + "\"");
    }

    List<String> strings(String key) {
        if (!(required(key) instanceof List<?> l)) throw error(key, "must be a list of strings");
        List<String> out = new ArrayList<>();
        for (Object o : l) {
            if (!(o instanceof String s)) throw error(key, "must be a list of strings, holds " + o);
            out.add(s);
        }
        return out;
    }

    /** A nested object, or null when absent. */
    @SuppressWarnings("unchecked")
    ConfigObject object(String key) {
        if (!has(key)) return null;
        if (!(map.get(key) instanceof Map<?, ?> m)) throw error(key, "must be an object");
        return new ConfigObject(file, path(key), (Map<String, Object>) m);
    }

    /** The raw value (for a key that may be an object or a file name). */
    Object raw(String key) {
        read.add(key);
        return map.get(key);
    }

    /** A path, relative ones resolved against the config file's folder. */
    Path path(String key, Path dflt) {
        if (!has(key)) return dflt;
        return resolve(string(key));
    }

    Path resolve(String s) {
        Path p = Path.of(s);
        Path dir = file.toAbsolutePath().getParent();
        return (p.isAbsolute() || dir == null ? p : dir.resolve(p)).normalize();
    }

    /** Rejects every key that was never read. */
    void finish() {
        for (String k : map.keySet())
            if (!read.contains(k)) throw new OvisException(file + ": unknown key \"" + path(k) + "\"");
    }
}
