package org.ovis4j.train.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.ovis4j.core.OvisException;

/**
 * The records of a {@link ShardSet} in training order, epoch after epoch: each epoch visits the
 * shards in a seeded order and streams them one at a time (never a whole shard in memory) through a
 * shuffle buffer of {@code bufferSize} records, WebDataset style: the buffer is filled from the
 * stream, a seeded uniform pick leaves it, and the next record takes its place. At an epoch's end the
 * buffer drains and the next epoch starts empty, so every record appears exactly once per epoch.
 *
 * <p>The order is a function of the seed alone: one thread reads, and the random draws depend only on
 * the seed, the epoch and the buffer's history, not on timing or thread counts. {@link #position()} is
 * the whole state between two records ({@link StreamPosition}); a stream resumed from it yields exactly
 * the records the uninterrupted stream would have.
 */
public final class ShardStream implements AutoCloseable {
    /** Purposes of the random streams, folded into their seeds. */
    static final long SHARD_ORDER = 1, BUFFER = 2;

    /**
     * @param bufferSize   records held for shuffling (1 = stream order); their encoded images are in memory
     * @param shuffleShards visit the shards in a seeded order per epoch, else in the set's order
     * @param withImages   read the images (false: keys and captions only)
     */
    public record Options(long seed, int bufferSize, boolean shuffleShards, boolean withImages) {
        public Options {
            if (bufferSize < 1) throw new OvisException("shuffle buffer size must be at least 1 (got " + bufferSize + ")");
        }
    }

    private final ShardSet set;
    private final Options options;
    private final int epochs;
    private final List<ShardRecord> buffer = new ArrayList<>();
    private int epoch;
    private int[] order;
    private int shardCursor;
    private ShardReader reader;
    private int recordCursor;
    private SeededRandom random;
    private boolean sourceDone;

    /** A stream from the start of epoch 0; {@code epochs} ≤ 0 means without end. */
    public ShardStream(ShardSet set, Options options, int epochs) {
        this(set, options, epochs, StreamPosition.start(options.seed()));
    }

    /** A stream continuing from a saved position (of a stream with the same set and options). */
    public ShardStream(ShardSet set, Options options, int epochs, StreamPosition at) {
        this.set = set;
        this.options = options;
        this.epochs = epochs;
        if (at.seed() != options.seed())
            throw new OvisException("data position was saved with seed " + at.seed() + ", not " + options.seed());
        if (at.buffer().size() > options.bufferSize())
            throw new OvisException("data position holds " + at.buffer().size() + " buffered records, more than the buffer size "
                    + options.bufferSize());
        if (at.shard() < 0 || at.shard() > set.size() || at.record() < 0)
            throw new OvisException("data position shard " + at.shard() + " record " + at.record() + " is outside the "
                    + set.size() + " shards");
        startEpoch(at.epoch());
        this.random = new SeededRandom(at.random());
        this.shardCursor = at.shard();
        this.recordCursor = at.record();
        this.sourceDone = shardCursor == set.size();
        refill(at.buffer());
        if (!sourceDone) {
            reader = new ShardReader(set.get(order[shardCursor]));
            if (!reader.skip(recordCursor))
                throw new OvisException(set.get(order[shardCursor]).path() + ": data position is at record " + recordCursor
                        + " but the shard has fewer records (did the data set change?)");
        }
    }

    private void startEpoch(int e) {
        epoch = e;
        order = new int[set.size()];
        if (options.shuffleShards()) order = new SeededRandom(SeededRandom.derive(options.seed(), e, SHARD_ORDER)).permutation(set.size());
        else for (int i = 0; i < order.length; i++) order[i] = i;
        random = new SeededRandom(SeededRandom.derive(options.seed(), e, BUFFER));
        shardCursor = 0;
        recordCursor = 0;
        sourceDone = false;
    }

    /** Reads the buffered records back from their shards, each shard once, in buffer order. */
    private void refill(List<StreamPosition.Ref> refs) {
        Map<Integer, TreeMap<Integer, Integer>> byShard = new TreeMap<>();
        for (int slot = 0; slot < refs.size(); slot++) {
            StreamPosition.Ref r = refs.get(slot);
            if (r.shard() < 0 || r.shard() >= set.size())
                throw new OvisException("data position refers to shard " + r.shard() + " of " + set.size());
            byShard.computeIfAbsent(r.shard(), k -> new TreeMap<>()).put(r.record(), slot);
        }
        ShardRecord[] slots = new ShardRecord[refs.size()];
        for (var e : byShard.entrySet()) {
            try (ShardReader r = new ShardReader(set.get(e.getKey()))) {
                for (var want : e.getValue().entrySet()) {
                    if (!r.skip(want.getKey() - r.index()))
                        throw new OvisException(set.get(e.getKey()).path() + ": data position refers to record " + want.getKey()
                                + " but the shard has fewer records (did the data set change?)");
                    slots[want.getValue()] = r.next(read());
                }
            }
        }
        buffer.clear();
        for (ShardRecord s : slots) buffer.add(s);
    }

    private ShardReader.Read read() {
        return options.withImages() ? ShardReader.Read.ALL : ShardReader.Read.CAPTION;
    }

    /** The next record, or null after the last epoch. */
    public ShardRecord next() {
        while (true) {
            while (buffer.size() < options.bufferSize() && !sourceDone) {
                ShardRecord r = pull();
                if (r != null) buffer.add(r);
            }
            if (!buffer.isEmpty()) {
                int j = random.nextInt(buffer.size());
                ShardRecord out = buffer.get(j);
                buffer.set(j, buffer.getLast());
                buffer.removeLast();
                return out;
            }
            // the epoch is over: the buffer drained and every shard was read
            if (epochs > 0 && epoch + 1 >= epochs) return null;
            startEpoch(epoch + 1);
        }
    }

    /** One record from the current shard, moving to the next shard at its end; null when a shard ended. */
    private ShardRecord pull() {
        if (reader == null) reader = new ShardReader(set.get(order[shardCursor]));
        ShardRecord r = reader.next(read());
        if (r != null) {
            recordCursor++;
            return r;
        }
        reader.close();
        reader = null;
        shardCursor++;
        recordCursor = 0;
        sourceDone = shardCursor == set.size();
        return null;
    }

    /** The state after the last record returned: save it, and resume with the constructor taking it. */
    public StreamPosition position() {
        List<StreamPosition.Ref> refs = new ArrayList<>(buffer.size());
        for (ShardRecord r : buffer) refs.add(new StreamPosition.Ref(r.shard(), r.index()));
        return new StreamPosition(options.seed(), epoch, shardCursor, recordCursor, random.state(), refs);
    }

    /** The epoch of the last record returned. */
    public int epoch() {
        return epoch;
    }

    @Override
    public void close() {
        if (reader != null) reader.close();
        reader = null;
    }
}
