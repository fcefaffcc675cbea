package org.ovis4j.eval;

import java.util.Arrays;
import java.util.List;

/**
 * Aligns the words of one target region with a contiguous run of the words of one OCR reading,
 * at the least cost in characters (docs/evaluation.md, "Matching"). Only whole OCR words take
 * part, and a target word earns credit only from an OCR word that is recognisably the same word:
 * <ul>
 *   <li>a target word w read as OCR word o costs Levenshtein(w, o) when that is less than half of
 *       |w| (more than half of the word is right), else |w| (the word is wrong: charged in full,
 *       whatever letters the two happen to share);</li>
 *   <li>a target word split by the OCR into two neighbouring words ("sum mer"), or two target words
 *       run into one ("summersale"), counts as read when the joined letters are exactly right
 *       (near misses across a split are left to the rules above: on noise, two fragments joined
 *       come close to some target word far too often);</li>
 *   <li>a target word with no OCR word costs |w|; an OCR word inside the run that no target word
 *       accounts for costs its length. OCR words before and after the run cost nothing (other
 *       text in the image is not the region's business).</li>
 * </ul>
 * The half rule is what keeps chance out: two unrelated words share letters (Levenshtein
 * similarity of random English words is 0.2 to 0.4), and a noise image read as hundreds of
 * fragments offers a fragment close to any target; neither must earn partial credit.
 */
final class RegionAlignment {
    private RegionAlignment() {}

    /**
     * @param distance   least cost in characters, between 0 and the target's length
     * @param exactWords target words aligned with an identical OCR word (or identical split/merge)
     * @param start      first OCR word of the run
     * @param end        one past the last; {@code start == end} when no OCR word is used
     */
    record Result(int distance, int exactWords, int start, int end) {}

    static Result align(List<String> target, List<String> ocr) {
        int k = target.size(), n = ocr.size();
        int[][] t = codePoints(target), o = codePoints(ocr);
        // cost[i][j], exact[i][j]: best alignment of the first i target words with a run of OCR
        // words ending before word j; start[i][j]: where that run begins. Row 0 is free at every j
        // (the run may begin anywhere).
        int[][] cost = new int[k + 1][n + 1], exact = new int[k + 1][n + 1], start = new int[k + 1][n + 1];
        for (int j = 0; j <= n; j++) start[0][j] = j;
        for (int i = 1; i <= k; i++) {
            int[] w = t[i - 1];
            for (int j = 0; j <= n; j++) {
                // The target word is missing.
                int bc = cost[i - 1][j] + w.length, be = exact[i - 1][j], bs = start[i - 1][j];
                if (j >= 1) {
                    // An OCR word inside the run that no target word accounts for.
                    int c = cost[i][j - 1] + o[j - 1].length;
                    if (better(c, exact[i][j - 1], bc, be)) { bc = c; be = exact[i][j - 1]; bs = start[i][j - 1]; }
                    // The target word read as this OCR word: right, nearly right, or wrong.
                    int d = TextMetrics.levenshtein(w, o[j - 1]);
                    c = cost[i - 1][j - 1] + (similar(d, w.length) ? d : w.length);
                    int e = exact[i - 1][j - 1] + (d == 0 ? 1 : 0);
                    if (better(c, e, bc, be)) { bc = c; be = e; bs = start[i - 1][j - 1]; }
                }
                if (j >= 2 && Arrays.equals(w, concat(o[j - 2], o[j - 1]))) {
                    // The target word split by the OCR into two words, letters exactly right.
                    int e = exact[i - 1][j - 2] + 1;
                    if (better(cost[i - 1][j - 2], e, bc, be)) { bc = cost[i - 1][j - 2]; be = e; bs = start[i - 1][j - 2]; }
                }
                if (i >= 2 && j >= 1 && Arrays.equals(concat(t[i - 2], w), o[j - 1])) {
                    // Two target words run into one OCR word, letters exactly right.
                    int e = exact[i - 2][j - 1] + 2;
                    if (better(cost[i - 2][j - 1], e, bc, be)) { bc = cost[i - 2][j - 1]; be = e; bs = start[i - 2][j - 1]; }
                }
                cost[i][j] = bc;
                exact[i][j] = be;
                start[i][j] = bs;
            }
        }
        int bestJ = 0;
        for (int j = 1; j <= n; j++) if (better(cost[k][j], exact[k][j], cost[k][bestJ], exact[k][bestJ])) bestJ = j;
        return new Result(cost[k][bestJ], exact[k][bestJ], start[k][bestJ], bestJ);
    }

    /** More than half of the word's characters are right. */
    static boolean similar(int distance, int length) {
        return 2 * distance < length;
    }

    /** Lower cost first; at equal cost, more words exactly right. */
    private static boolean better(int cost, int exact, int bestCost, int bestExact) {
        return cost < bestCost || (cost == bestCost && exact > bestExact);
    }

    private static int[][] codePoints(List<String> words) {
        int[][] out = new int[words.size()][];
        for (int i = 0; i < out.length; i++) out[i] = words.get(i).codePoints().toArray();
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
