package org.ovis4j.checkpoint;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a layout on disk spells the diffusers names: each diffusers tensor is one or more row blocks of
 * stored tensors, stacked in order. A single whole part is a plain rename.
 */
public final class NameMap {
    /** Rows [from, from + count) of the stored tensor {@code source}; count −1 means all rows. */
    public record Part(String source, long from, long count) {
        public static Part whole(String source) {
            return new Part(source, 0, -1);
        }
    }

    private final Map<String, List<Part>> entries = new LinkedHashMap<>();

    public NameMap rename(String diffusers, String stored) {
        entries.put(diffusers, List.of(Part.whole(stored)));
        return this;
    }

    public NameMap parts(String diffusers, Part... parts) {
        entries.put(diffusers, List.of(parts));
        return this;
    }

    /** The parts for a name, or null when the name is stored as it is. */
    public List<Part> lookup(String diffusers) {
        return entries.get(diffusers);
    }

    public Map<String, List<Part>> entries() {
        return entries;
    }
}
