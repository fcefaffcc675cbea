package org.ovis4j.vae;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The activation arrays of one encode or decode call (all its tiles), handed back as soon as the
 * map they hold is dead and handed out again for the next map of the same size. A tile's feature
 * maps are 64–256 MiB each; allocated afresh for every layer they filled the heap with dead
 * humongous arrays faster than the collector returned them (a tiled 1024x1024 decode grew the heap
 * by 4 GiB). Not shared between threads.
 */
final class Workspace {
    private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    private int created;

    /** An array of exactly n values; its contents are garbage. */
    float[] take(int n) {
        ArrayDeque<float[]> q = free.get(n);
        float[] a = q == null ? null : q.poll();
        if (a != null) return a;
        created++;
        return new float[n];
    }

    /** Arrays allocated so far (not found in the pool). */
    int created() { return created; }

    /** Returns an array nobody reads any more (a map's data once the map is dead). */
    void give(float[] a) {
        free.computeIfAbsent(a.length, n -> new ArrayDeque<>()).push(a);
    }

    /** A map [h, w, c] whose contents are garbage. */
    FeatureMap map(int h, int w, int c) {
        return new FeatureMap(take(Math.multiplyExact(Math.multiplyExact(h, w), c)), h, w, c);
    }

    /** Gives the dead map's array back and returns its successor: {@code x = ws.replace(x, f(x))}. */
    FeatureMap replace(FeatureMap dead, FeatureMap next) {
        give(dead.data());
        return next;
    }
}
