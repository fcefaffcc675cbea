package org.ovis4j.train.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.ovis4j.train.testing.GradCheck.*;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;

/**
 * {@link CausalLmLoss} against a naive double loop (logits row by row, log-softmax over the vocabulary or
 * the given subset, mean over target rows), for the full softmax and a subset, with more target rows than
 * one chunk (so the chunking and the scatter of dh are covered). The head's products have dim = 33 terms
 * and the softmax the tolerances of {@code SoftmaxCrossEntropyOpTest}; 1e-5 of each gradient's scale.
 */
class CausalLmLossTest {
    /** Returns {loss, dh..., dE...} in double. */
    static double[][] naive(double[] h, int rows, int dim, int[] targets, double[] e, int vocab, int[] subset) {
        int[] classes = subset != null ? subset : java.util.stream.IntStream.range(0, vocab).toArray();
        double[] dh = new double[rows * dim], de = new double[vocab * dim];
        double loss = 0;
        int count = 0;
        for (int r = 0; r < rows; r++) if (targets[r] >= 0) count++;
        for (int r = 0; r < rows; r++) {
            if (targets[r] < 0) continue;
            double[] z = new double[classes.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes.length; c++) {
                for (int i = 0; i < dim; i++) z[c] += h[r * dim + i] * e[classes[c] * dim + i];
                max = Math.max(max, z[c]);
            }
            double s = 0;
            for (double v : z) s += Math.exp(v - max);
            double lse = max + Math.log(s);
            for (int c = 0; c < classes.length; c++) {
                double g = (Math.exp(z[c] - lse) - (classes[c] == targets[r] ? 1 : 0)) / count;
                if (classes[c] == targets[r]) loss += lse - z[c];
                for (int i = 0; i < dim; i++) {
                    dh[r * dim + i] += g * e[classes[c] * dim + i];
                    de[classes[c] * dim + i] += g * h[r * dim + i];
                }
            }
        }
        return new double[][] {{loss / count}, dh, de};
    }

    @Test
    void matchesNaiveLoopsForFullAndSubsetSoftmax() {
        Random rnd = new Random(81);
        int rows = 300, dim = 33, vocab = 129;
        float[] h = random(rnd, rows * dim), e = random(rnd, vocab * dim);
        for (int i = 0; i < e.length; i++) e[i] *= 0.3f;
        int[] subset = {3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 128};
        int[] targets = new int[rows];
        for (int r = 0; r < rows; r++) targets[r] = r % 5 == 0 ? -1 : subset[rnd.nextInt(subset.length)];
        for (int[] sub : new int[][] {null, subset}) {
            CausalLmLoss.Vocabulary v = sub == null ? CausalLmLoss.Vocabulary.all(vocab) : CausalLmLoss.Vocabulary.of(vocab, sub);
            float[] de = new float[vocab * dim];
            CausalLmLoss.Result r = CausalLmLoss.compute(h, rows, dim, targets, e, de, v);
            double[][] want = naive(toDouble(h), rows, dim, targets, toDouble(e), vocab, sub);
            String at = sub == null ? "full" : "subset";
            assertEquals(want[0][0], r.loss(), 1e-5 * want[0][0], at + " loss");
            assertEquals(240, r.targets());
            assertClose(at + " dh", want[1], r.dHidden(), 1e-5);
            assertClose(at + " dE", want[2], de, 1e-5);
        }
    }

    @Test
    void aTargetOutsideTheSubsetIsAnError() {
        CausalLmLoss.Vocabulary v = CausalLmLoss.Vocabulary.of(10, new int[] {1, 2});
        OvisException x = assertThrows(OvisException.class,
                () -> CausalLmLoss.compute(new float[2], 1, 2, new int[] {5}, new float[20], null, v));
        assertEquals("target id 5 at row 0 is outside the softmax's vocabulary", x.getMessage());
    }
}
