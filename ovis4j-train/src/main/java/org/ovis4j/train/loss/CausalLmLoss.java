package org.ovis4j.train.loss;

import org.ovis4j.core.OvisException;
import org.ovis4j.train.ops.LinearOp;
import org.ovis4j.train.ops.SoftmaxCrossEntropyOp;

/**
 * Next-token cross-entropy through a tied LM head, forward and backward in one pass: for each row r
 * with a target t_r ≥ 0, logits z_r = E·h_r over the softmax's classes, loss = mean_r (lse(z_r) − z_r[t_r])
 * (transformers' ForCausalLMLoss: labels −100 are ignored, the mean is over the others). It returns dL/dh
 * and adds dL/dE into the embedding's gradient. Rows without a target cost nothing.
 *
 * <p>The head is the cost of a small Qwen3: E has 151,669 rows (the tokenizer's ids), so one row of
 * logits is 600 kB. Logits are never held for the whole batch: target rows go through in chunks of
 * {@link #CHUNK}, each chunk's logits turned into their gradient in place and consumed by the two
 * products of the backward before the next chunk.
 *
 * <p>The softmax runs over every row of E, or over a given subset of ids ({@link Vocabulary#of}), the
 * normaliser then summing the subset's logits only. On a corpus whose every target lies in the subset
 * this is the exact cross-entropy of the model restricted to those ids (a model that cannot emit the
 * others), not the full softmax's: the full one also pushes every other id's logit down, and its loss
 * is larger (log of the vocabulary at the start instead of log of the subset). The rows of E outside
 * the subset then get no gradient from the head; on that corpus they never occur as inputs either, so
 * they keep their initial values (but for weight decay), and the states of every prompt made of the
 * corpus's ids are what the subset trained. Measured on the pilot (151,669 ids, 559 in the corpus,
 * hidden 128): the full head is about 7 times the rest of the step, the subset's 1 %.
 */
public final class CausalLmLoss {
    /** Target rows per chunk: 128 rows of 151,669 logits are 78 MB. */
    static final int CHUNK = 128;

    private CausalLmLoss() {}

    /** The ids the softmax runs over: all of [0, vocab), or a sorted subset of them. */
    public record Vocabulary(int vocab, int[] ids) {
        public static Vocabulary all(int vocab) {
            return new Vocabulary(vocab, null);
        }

        /** A subset: distinct ids in [0, vocab), sorted here. */
        public static Vocabulary of(int vocab, int[] ids) {
            int[] s = ids.clone();
            java.util.Arrays.sort(s);
            for (int i = 0; i < s.length; i++) {
                if (s[i] < 0 || s[i] >= vocab) throw new OvisException("softmax vocabulary: id " + s[i] + " outside [0, " + vocab + ")");
                if (i > 0 && s[i] == s[i - 1]) throw new OvisException("softmax vocabulary: id " + s[i] + " twice");
            }
            return new Vocabulary(vocab, s);
        }

        public int classes() {
            return ids == null ? vocab : ids.length;
        }

        /** The class of an id, −1 when the softmax does not include it. */
        int classOf(int id) {
            if (ids == null) return id >= 0 && id < vocab ? id : -1;
            int c = java.util.Arrays.binarySearch(ids, id);
            return c >= 0 ? c : -1;
        }
    }

    /** The mean loss, the number of target rows it averages, and dL/dh [rows, dim]. */
    public record Result(double loss, int targets, float[] dHidden) {}

    /**
     * @param hidden    the final hidden states [rows, dim]
     * @param targets   per row the next token's id, or −1 (no loss at that row)
     * @param embed     the tied embedding [vocab, dim]
     * @param embedGrad its gradient, added into (null: frozen)
     */
    public static Result compute(float[] hidden, int rows, int dim, int[] targets, float[] embed, float[] embedGrad, Vocabulary vocab) {
        int[] at = new int[rows];
        int count = 0;
        for (int r = 0; r < rows; r++) {
            if (targets[r] < 0) continue;
            int c = vocab.classOf(targets[r]);
            if (c < 0) throw new OvisException("target id " + targets[r] + " at row " + r + " is outside the softmax's vocabulary");
            at[count++] = r;
        }
        float[] dHidden = new float[rows * dim];
        if (count == 0) return new Result(0, 0, dHidden);
        int classes = vocab.classes();
        // the head's weight: E itself, or the subset's rows gathered (and their gradient scattered back)
        float[] w = embed, dw = embedGrad;
        if (vocab.ids() != null) {
            w = new float[classes * dim];
            for (int c = 0; c < classes; c++) System.arraycopy(embed, vocab.ids()[c] * dim, w, c * dim, dim);
            dw = embedGrad == null ? null : new float[classes * dim];
        }
        float scale = 1f / count;
        double total = 0;
        int chunk = Math.min(CHUNK, count);
        float[] h = new float[chunk * dim], z = new float[chunk * classes], dh = new float[chunk * dim], lse = new float[chunk];
        int[] t = new int[chunk];
        for (int c0 = 0; c0 < count; c0 += chunk) {
            int m = Math.min(chunk, count - c0);
            for (int i = 0; i < m; i++) {
                int r = at[c0 + i];
                System.arraycopy(hidden, r * dim, h, i * dim, dim);
                t[i] = vocab.classOf(targets[r]);
            }
            LinearOp.forward(h, m, w, null, dim, classes, z);
            total += SoftmaxCrossEntropyOp.forward(z, m, classes, t, lse);
            SoftmaxCrossEntropyOp.backward(z, m, classes, t, lse, scale);
            LinearOp.backward(h, m, w, dim, classes, z, dh, false, dw, null);
            for (int i = 0; i < m; i++) System.arraycopy(dh, i * dim, dHidden, at[c0 + i] * dim, dim);
        }
        if (vocab.ids() != null && embedGrad != null)
            for (int c = 0; c < classes; c++) {
                int o = vocab.ids()[c] * dim;
                for (int i = 0; i < dim; i++) embedGrad[o + i] += dw[c * dim + i];
            }
        return new Result(total / count, count, dHidden);
    }
}
