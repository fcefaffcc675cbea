package org.ovis4j.data.filter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds an earlier hash within a Hamming distance. For distances up to 7 it splits the 64 bits into
 * 8 bytes: two hashes at most 7 bits apart must agree exactly on at least one byte (pigeonhole), so
 * only hashes sharing a byte need comparing, which keeps a million-sample run far from quadratic.
 * Larger distances fall back to comparing with everything.
 *
 * <p>Entries also carry the text they show, and only entries with the same text can be duplicates:
 * at the 32x32 scale of the hash two boards that say "OPEN" and "SALE" in the same style look
 * alike, yet for a typography data set they are different samples.
 */
public final class DuplicateIndex {
    public record Match(String key, int distance) {}

    private final int maxDistance;
    private final List<Map<Integer, List<Integer>>> bands = new ArrayList<>();
    private final List<Long> hashes = new ArrayList<>();
    private final List<String> keys = new ArrayList<>();
    private final List<String> texts = new ArrayList<>();

    public DuplicateIndex(int maxDistance) {
        this.maxDistance = maxDistance;
        for (int b = 0; b < 8; b++) bands.add(new HashMap<>());
    }

    /** The closest earlier entry within the distance, or null. */
    public Match find(long hash, String text) {
        if (maxDistance < 0) return null;
        Match best = null;
        if (maxDistance <= 7) {
            for (int b = 0; b < 8; b++) {
                List<Integer> ids = bands.get(b).get((int) ((hash >>> (8 * b)) & 0xFF));
                if (ids == null) continue;
                for (int id : ids) best = closer(best, id, hash, text);
            }
        } else {
            for (int id = 0; id < hashes.size(); id++) best = closer(best, id, hash, text);
        }
        return best;
    }

    private Match closer(Match best, int id, long hash, String text) {
        if (!texts.get(id).equals(text)) return best;
        int d = PerceptualHash.distance(hashes.get(id), hash);
        if (d > maxDistance) return best;
        if (best == null || d < best.distance() || (d == best.distance() && keys.get(id).compareTo(best.key()) < 0)) {
            return new Match(keys.get(id), d);
        }
        return best;
    }

    public void add(long hash, String key, String text) {
        int id = hashes.size();
        hashes.add(hash);
        keys.add(key);
        texts.add(text);
        for (int b = 0; b < 8; b++) bands.get(b).computeIfAbsent((int) ((hash >>> (8 * b)) & 0xFF), k -> new ArrayList<>()).add(id);
    }
}
