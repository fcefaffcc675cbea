package org.ovis4j.tokenizer;

import java.util.Arrays;

/**
 * BPE over byte symbols: a word starts as one symbol per UTF-8 byte and the adjacent pair with the
 * lowest merge rank (leftmost on ties) is merged until no ranked pair is left. Working on bytes, not
 * characters, is what lets a token end inside a multi-byte character.
 *
 * <p>A binary heap of (rank, position) over a linked list of symbols keeps long words (a 100k-letter
 * run is one pre-token) near O(n log n); the order of merges is the same as the quadratic textbook loop.
 */
final class BytePairEncoder {
    private static final long EMPTY = -1L;

    private final int[] byteIds;
    // Open addressing, key = left << 32 | right, value = rank << 32 | merged id.
    private final long[] keys;
    private final long[] values;
    private final int mask;

    /** @param byteIds the vocabulary id of each single byte, -1 where the vocabulary lacks it */
    BytePairEncoder(int[] byteIds, int[] left, int[] right, int[] merged) {
        this.byteIds = byteIds.clone();
        int cap = Integer.highestOneBit(Math.max(4, left.length * 2)) * 2;
        keys = new long[cap];
        values = new long[cap];
        Arrays.fill(keys, EMPTY);
        mask = cap - 1;
        for (int rank = 0; rank < left.length; rank++) {
            long key = pairKey(left[rank], right[rank]);
            int slot = slot(key);
            // A repeated pair keeps its last rank: the reference collects merges into a map in order.
            keys[slot] = key;
            values[slot] = ((long) rank << 32) | (merged[rank] & 0xFFFFFFFFL);
        }
    }

    private static long pairKey(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    private int slot(long key) {
        int h = (int) (key ^ (key >>> 29) ^ (key >>> 17)) * 0x9E3779B1;
        int s = (h ^ (h >>> 15)) & mask;
        while (keys[s] != EMPTY && keys[s] != key) s = (s + 1) & mask;
        return s;
    }

    private long lookup(int a, int b) {
        long key = pairKey(a, b);
        int s = slot(key);
        return keys[s] == key ? values[s] : EMPTY;
    }

    /** The token ids of one pre-token given as UTF-8 bytes. */
    int[] encode(byte[] word) {
        int n = 0;
        int[] sym = new int[word.length];
        for (byte b : word) {
            int id = byteIds[b & 0xFF];
            // Without an unk token the reference silently drops bytes the vocabulary cannot spell.
            if (id >= 0) sym[n++] = id;
        }
        if (n <= 1) return Arrays.copyOf(sym, n);
        int[] next = new int[n], prev = new int[n];
        boolean[] dead = new boolean[n];
        for (int i = 0; i < n; i++) { next[i] = i + 1; prev[i] = i - 1; }
        next[n - 1] = -1;
        long[] heap = new long[n];
        int size = 0;
        for (int i = 0; i + 1 < n; i++) {
            long v = lookup(sym[i], sym[i + 1]);
            if (v != EMPTY) size = push(heap, size, (v & 0xFFFFFFFF00000000L) | i);
        }
        int alive = n;
        while (size > 0) {
            long top = heap[0];
            size = pop(heap, size);
            int pos = (int) top;
            int nx = next[pos];
            if (dead[pos] || nx < 0) continue;
            long v = lookup(sym[pos], sym[nx]);
            // Entries go stale when a neighbour merged first; the current pair then has another rank.
            if (v == EMPTY || (v >>> 32) != (top >>> 32)) continue;
            sym[pos] = (int) v;
            dead[nx] = true;
            alive--;
            int nn = next[nx];
            next[pos] = nn;
            if (nn >= 0) prev[nn] = pos;
            int pv = prev[pos];
            if (pv >= 0) {
                long w = lookup(sym[pv], sym[pos]);
                if (w != EMPTY) { heap = grow(heap, size); size = push(heap, size, (w & 0xFFFFFFFF00000000L) | pv); }
            }
            if (nn >= 0) {
                long w = lookup(sym[pos], sym[nn]);
                if (w != EMPTY) { heap = grow(heap, size); size = push(heap, size, (w & 0xFFFFFFFF00000000L) | pos); }
            }
        }
        int[] out = new int[alive];
        for (int i = 0, k = 0; i >= 0; i = next[i]) out[k++] = sym[i];
        return out;
    }

    private static long[] grow(long[] heap, int size) {
        return size < heap.length ? heap : Arrays.copyOf(heap, heap.length * 2);
    }

    private static int push(long[] heap, int size, long e) {
        int i = size++;
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (heap[p] <= e) break;
            heap[i] = heap[p];
            i = p;
        }
        heap[i] = e;
        return size;
    }

    private static int pop(long[] heap, int size) {
        long last = heap[--size];
        int i = 0;
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) break;
            if (c + 1 < size && heap[c + 1] < heap[c]) c++;
            if (heap[c] >= last) break;
            heap[i] = heap[c];
            i = c;
        }
        if (size > 0) heap[i] = last;
        return size;
    }
}
