package org.ovis4j.train.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.ovis4j.train.testing.TrainingGoldens.read;
import static org.ovis4j.train.testing.TrainingGoldens.tensor;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.Tensor;

/** Flow-GRPO's per-prompt advantages (goldens README 9.7, flow_grpo PerPromptStatTracker). */
class GrpoAdvantagesTest {
    static final Map<String, Tensor> G = read("grpo.safetensors");

    private static double[] doubles(String name) {
        Tensor t = tensor(G, name);
        assertEquals("F64", t.dtype().name(), name);
        double[] d = new double[(int) t.numel()];
        for (int i = 0; i < d.length; i++) d[i] = t.getDouble(i);
        return d;
    }

    /** numpy float64 arithmetic in the same order: the same bits, so compared exactly. */
    @Test
    void globalAndGroupStdAdvantagesAreNumpysBits() {
        double[] rewards = doubles("in.adv.rewards");
        long[] index = tensor(G, "in.adv.prompt_index").toLongs();
        int[] prompt = new int[index.length];
        for (int i = 0; i < prompt.length; i++) prompt[i] = Math.toIntExact(index[i]);
        assertArrayEquals(doubles("adv.advantages_global_std"), GrpoAdvantages.compute(rewards, prompt, true), 0);
        assertArrayEquals(doubles("adv.advantages_group_std"), GrpoAdvantages.compute(rewards, prompt, false), 0);
    }

    @Test
    void aSingleSampleGroupGetsZeroAndGroupsAreFoundByKey() {
        double[] adv = GrpoAdvantages.compute(new double[] {0.3, 0.9, 0.1, 0.5}, List.of("a", "b", "a", "c"), false);
        assertEquals(0, adv[1], 0);
        assertEquals(0, adv[3], 0);
        // group a: mean 0.2, population std 0.1
        assertEquals(0.1 / (0.1 + 1e-4), adv[0], 1e-12);
        assertEquals(-0.1 / (0.1 + 1e-4), adv[2], 1e-12);
        // equal rewards in a group: zero, not a division by zero
        assertArrayEquals(new double[] {0, 0}, GrpoAdvantages.compute(new double[] {0.7, 0.7}, List.of("p", "p"), false), 0);
    }

    /** The pairwise sum is a float64 sum (close to the exact one) over every size class: &lt; 8, ≤ 128, split halves. */
    @Test
    void pairwiseSumIsCloseToTheExactSum() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int n : new int[] {1, 7, 8, 9, 33, 128, 129, 1000, 4099}) {
            double[] x = new double[n];
            BigDecimal exact = BigDecimal.ZERO;
            for (int i = 0; i < n; i++) {
                x[i] = rnd.nextDouble(-1, 1) * Math.pow(10, rnd.nextInt(-3, 4));
                exact = exact.add(new BigDecimal(x[i]));
            }
            double abs = 0;
            for (double v : x) abs += Math.abs(v);
            double s = GrpoAdvantages.sum(x, 0, n);
            // pairwise summation's error bound: ~ log2(n) · eps · Σ|x|
            assertEquals(exact.round(MathContext.DECIMAL64).doubleValue(), s, 2 * (Math.log(n) / Math.log(2) + 8) * 0x1p-53 * abs, "n " + n);
        }
        // The order shows where rounding bites: numpy 2.4 sums these 9 values to 5.0 (eight partial sums, 1e16 + 1
        // and −1e16 + 1 each round to ±1e16), a left-to-right loop to 6.0.
        assertEquals(5.0, GrpoAdvantages.sum(new double[] {1e16, 1, -1e16, 1, 1, 1, 1, 1, 1}, 0, 9), 0);
    }

    @Test
    void mismatchedInputsAreOneLineErrors() {
        assertEquals("GRPO advantages: 2 rewards for 1 prompts",
                assertThrows(OvisException.class, () -> GrpoAdvantages.compute(new double[2], List.of("a"), true)).getMessage());
        assertThrows(OvisException.class, () -> GrpoAdvantages.compute(new double[] {Double.NaN}, List.of("a"), true));
    }
}
