package org.ovis4j.train.loss;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;

/**
 * Group-relative advantages of Flow-GRPO (spec 9.6; flow_grpo's {@code PerPromptStatTracker} of type
 * "grpo", cleared after every epoch as its training script does): each reward minus the mean reward of
 * its prompt's group, divided by a standard deviation plus 1e-4 — of all rewards of the batch
 * ({@code globalStd}, what flow_grpo's configs set) or of the group. Standard deviations are
 * population ones (numpy, ddof 0); a group of one sample gets advantage 0.
 *
 * <p>float64 throughout, with numpy's summation order (pairwise, see {@link #sum}), so the values are
 * the bits numpy computes and not only close to them: they feed the float64 policy loss.
 */
public final class GrpoAdvantages {
    /** numpy's {@code std + 1e-4}. */
    static final double STD_EPS = 1e-4;

    private GrpoAdvantages() {}

    /**
     * @param rewards one reward per sample
     * @param prompts the prompt (or any key telling the groups apart) of each sample
     */
    public static double[] compute(double[] rewards, List<?> prompts, boolean globalStd) {
        if (rewards.length != prompts.size())
            throw new OvisException("GRPO advantages: " + rewards.length + " rewards for " + prompts.size() + " prompts");
        Map<Object, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < rewards.length; i++) {
            if (!Double.isFinite(rewards[i])) throw new OvisException("GRPO advantages: reward " + i + " is " + rewards[i]);
            groups.computeIfAbsent(prompts.get(i), k -> new ArrayList<>()).add(i);
        }
        double global = globalStd ? std(rewards) + STD_EPS : Double.NaN;
        double[] adv = new double[rewards.length];
        for (List<Integer> members : groups.values()) {
            double[] r = new double[members.size()];
            for (int k = 0; k < r.length; k++) r[k] = rewards[members.get(k)];
            double mean = mean(r), std = globalStd ? global : std(r) + STD_EPS;
            for (int k = 0; k < r.length; k++) adv[members.get(k)] = (r[k] - mean) / std;
        }
        return adv;
    }

    /** Groups given as integer prompt indices. */
    public static double[] compute(double[] rewards, int[] promptIndex, boolean globalStd) {
        List<Integer> keys = new ArrayList<>(promptIndex.length);
        for (int p : promptIndex) keys.add(p);
        return compute(rewards, keys, globalStd);
    }

    /** numpy's mean: the pairwise sum divided by the count. */
    static double mean(double[] x) {
        return sum(x, 0, x.length) / x.length;
    }

    /** numpy's std (ddof 0): sqrt(sum((x − mean)²) / n), both sums pairwise. */
    static double std(double[] x) {
        double m = mean(x);
        double[] sq = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - m;
            sq[i] = d * d;
        }
        return Math.sqrt(sum(sq, 0, sq.length) / x.length);
    }

    /**
     * numpy's pairwise summation of a contiguous float64 array (its {@code add.reduce}): fewer than 8
     * values in order; up to 128 in eight interleaved partial sums combined as a tree, then the rest in
     * order; more are split in two halves at a multiple of 8. The reduction starts from 0.
     */
    static double sum(double[] a, int from, int n) {
        return 0.0 + pairwise(a, from, n);
    }

    private static double pairwise(double[] a, int from, int n) {
        if (n < 8) {
            double s = 0.;
            for (int i = 0; i < n; i++) s += a[from + i];
            return s;
        }
        if (n <= 128) {
            double[] r = new double[8];
            System.arraycopy(a, from, r, 0, 8);
            int i = 8;
            for (; i < n - n % 8; i += 8)
                for (int j = 0; j < 8; j++) r[j] += a[from + i + j];
            double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) s += a[from + i];
            return s;
        }
        int half = n / 2;
        half -= half % 8;
        return pairwise(a, from, half) + pairwise(a, from + half, n - half);
    }
}
