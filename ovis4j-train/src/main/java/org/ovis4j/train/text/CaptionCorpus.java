package org.ovis4j.train.text;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import org.ovis4j.core.OvisException;
import org.ovis4j.tokenizer.OvisPrompt;
import org.ovis4j.tokenizer.Qwen3Tokenizer;
import org.ovis4j.train.data.SeededRandom;
import org.ovis4j.train.data.ShardRecord;
import org.ovis4j.train.data.ShardSet;
import org.ovis4j.train.data.ShardStream;

/**
 * The captions a text encoder is pretrained on, tokenised exactly as the pipeline tokenises a prompt
 * ({@link OvisPrompt#encode}: the Qwen3 chat template around the Ovis system prompt, truncated to
 * max_sequence_length + 28 tokens), so that the states the model learns to produce are those the
 * pipeline reads, at the positions it reads them. Held in memory (20k captions are about 1M ids), in
 * the data's order: the shards' canonical order, or the lines of a text file.
 *
 * <p>The training order is a seeded permutation per epoch; a position (epoch, cursor) is the whole
 * state, so a resumed run draws the same batches.
 */
public final class CaptionCorpus {
    private static final long ORDER = 21;

    private final int[][] sequences;
    private final int pad;

    private CaptionCorpus(int[][] sequences, int pad) {
        this.sequences = sequences;
        this.pad = pad;
    }

    /** Captions of the data engine's tar shards (a folder with manifest.json, a folder of *.tar, one tar). */
    public static List<String> shardCaptions(Path shards) {
        List<String> out = new ArrayList<>();
        try (ShardStream s = new ShardStream(ShardSet.open(shards), new ShardStream.Options(0, 1, false, false), 1)) {
            for (ShardRecord r = s.next(); r != null; r = s.next()) {
                if (r.caption() == null || r.caption().isBlank()) throw new OvisException(r.where() + ": no caption");
                out.add(r.caption());
            }
        }
        return out;
    }

    /** Captions of a UTF-8 text file, one per non-blank line. */
    public static List<String> fileCaptions(Path file) {
        try {
            List<String> out = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) if (!line.isBlank()) out.add(line);
            if (out.isEmpty()) throw new OvisException(file + ": no captions (every line is blank)");
            return out;
        } catch (IOException e) {
            throw new OvisException(file + ": cannot read captions (" + e.getMessage() + ")");
        }
    }

    /** Tokenises every caption with the Ovis template (see the class comment). */
    public static CaptionCorpus tokenize(List<String> captions, Qwen3Tokenizer tok, int maxSequenceLength) {
        if (captions.isEmpty()) throw new OvisException("no captions to train on");
        int[][] seqs = new int[captions.size()][];
        int pad = -1;
        for (int i = 0; i < seqs.length; i++) {
            OvisPrompt.Encoded e = OvisPrompt.encode(tok, captions.get(i), maxSequenceLength);
            seqs[i] = Arrays.copyOf(e.ids(), e.validTokens());
            pad = e.validTokens() < e.ids().length ? e.ids()[e.validTokens()] : pad;
        }
        if (pad < 0) pad = tok.tokenId("<|endoftext|>");
        return new CaptionCorpus(seqs, pad);
    }

    public int size() {
        return sequences.length;
    }

    /** Tokens of sequence i (template included). */
    public int[] sequence(int i) {
        return sequences[i].clone();
    }

    /** Every id that occurs in the corpus, sorted (with the pad id): the softmax's classes when restricted to the corpus. */
    public int[] ids() {
        TreeSet<Integer> set = new TreeSet<>();
        set.add(pad);
        for (int[] s : sequences) for (int id : s) set.add(id);
        return set.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Sequences by index, right-padded with the pad id to the longest of them. */
    public TextBatch batch(int[] indices) {
        int len = 0;
        for (int i : indices) len = Math.max(len, sequences[i].length);
        int[] ids = new int[indices.length * len], valid = new int[indices.length];
        Arrays.fill(ids, pad);
        for (int s = 0; s < indices.length; s++) {
            int[] q = sequences[indices[s]];
            System.arraycopy(q, 0, ids, s * len, q.length);
            valid[s] = q.length;
        }
        return new TextBatch(indices.length, len, ids, valid);
    }

    /** Where the training order stands: the next index is permutation(epoch)[cursor]. */
    public record Position(long epoch, long cursor) {}

    /** The next {@code count} indices from {@code at} (continuing into the next epoch's order); returns the new position. */
    public Position next(long seed, Position at, int[] into) {
        long epoch = at.epoch(), cursor = at.cursor();
        int[] order = order(seed, epoch);
        for (int k = 0; k < into.length; k++) {
            if (cursor == order.length) {
                epoch++;
                cursor = 0;
                order = order(seed, epoch);
            }
            into[k] = order[(int) cursor++];
        }
        return new Position(epoch, cursor);
    }

    private int[] order(long seed, long epoch) {
        return new SeededRandom(SeededRandom.derive(seed, ORDER, epoch)).permutation(sequences.length);
    }
}
