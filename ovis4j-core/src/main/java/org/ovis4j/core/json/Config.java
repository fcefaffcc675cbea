package org.ovis4j.core.json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;

/** A JSON object read from a config file; every error names the file and the key. */
public final class Config {
    private final String where;
    private final Map<String, Object> map;

    public Config(String where, Map<String, Object> map) {
        this.where = where;
        this.map = map;
    }

    public static Config read(Path file) {
        if (!Files.isRegularFile(file)) throw new OvisException(file + ": file not found");
        try {
            return new Config(file.toString(), Json.parseObject(file));
        } catch (IOException e) {
            throw new OvisException(file + ": cannot read (" + e.getMessage() + ")");
        } catch (Json.JsonException e) {
            throw new OvisException(e.getMessage());
        }
    }

    public String where() { return where; }
    public Map<String, Object> map() { return map; }
    public boolean has(String key) { return map.get(key) != null; }

    private Object required(String key) {
        Object v = map.get(key);
        if (v == null) throw new OvisException(where + ": missing key \"" + key + "\"");
        return v;
    }

    public int getInt(String key) {
        Object v = required(key);
        if (v instanceof Long l && l == (int) (long) l) return (int) (long) l;
        throw new OvisException(where + ": key \"" + key + "\" must be an integer, got " + v);
    }

    public int getInt(String key, int dflt) {
        return has(key) ? getInt(key) : dflt;
    }

    public double getDouble(String key) {
        Object v = required(key);
        if (v instanceof Number n) return n.doubleValue();
        throw new OvisException(where + ": key \"" + key + "\" must be a number, got " + v);
    }

    public double getDouble(String key, double dflt) {
        return has(key) ? getDouble(key) : dflt;
    }

    public boolean getBoolean(String key, boolean dflt) {
        if (!has(key)) return dflt;
        if (map.get(key) instanceof Boolean b) return b;
        throw new OvisException(where + ": key \"" + key + "\" must be true or false");
    }

    public String getString(String key) {
        if (required(key) instanceof String s) return s;
        throw new OvisException(where + ": key \"" + key + "\" must be a string");
    }

    public String getString(String key, String dflt) {
        if (!has(key)) return dflt;
        return String.valueOf(map.get(key));
    }

    public int[] getIntArray(String key) {
        if (!(required(key) instanceof List<?> l)) throw new OvisException(where + ": key \"" + key + "\" must be a list");
        int[] out = new int[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Long x)) throw new OvisException(where + ": key \"" + key + "\" must hold integers");
            out[i] = (int) (long) x;
        }
        return out;
    }

    /** A nested object, or null when absent. */
    @SuppressWarnings("unchecked")
    public Config child(String key) {
        Object v = map.get(key);
        if (v == null) return null;
        if (!(v instanceof Map)) throw new OvisException(where + ": key \"" + key + "\" must be an object");
        return new Config(where + " (" + key + ")", (Map<String, Object>) v);
    }
}
