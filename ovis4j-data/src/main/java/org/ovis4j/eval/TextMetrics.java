package org.ovis4j.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Scores OCR output against the target texts of one prompt (definitions in docs/evaluation.md).
 * <ul>
 *   <li><b>word accuracy</b>: the share of target words (Chinese: characters) found among the OCR
 *       words, each OCR word matching at most one target word;</li>
 *   <li><b>NED</b>: 1 − normalised edit distance, so higher is better. Each target region is aligned
 *       with its best-matching stretch of the OCR text (edit distance to the closest substring), and
 *       NED = 1 − Σ distance / Σ target length over the regions, floored at 0.</li>
 * </ul>
 * Both ignore text in the image that no target asks for, and neither depends on the order in which
 * the OCR engine happened to read the regions.
 */
public final class TextMetrics {
    private TextMetrics() {}

    /** One region's result: its normalised text, edit distance to the best OCR substring, and NED. */
    public record Region(String text, String normalized, int distance, double ned) {}

    public record Score(double wordAccuracy, double ned, int targetWords, int matchedWords, List<Region> regions) {}

    public static Score score(List<String> targets, String ocr) {
        String o = TextNormalizer.normalize(ocr);
        Map<String, Integer> available = new HashMap<>();
        for (String t : TextNormalizer.tokens(o)) available.merge(t, 1, Integer::sum);
        int total = 0, matched = 0, dist = 0, len = 0;
        List<Region> regions = new ArrayList<>();
        for (String target : targets) {
            String n = TextNormalizer.normalize(target);
            for (String t : TextNormalizer.tokens(n)) {
                total++;
                Integer left = available.get(t);
                if (left != null && left > 0) {
                    matched++;
                    available.put(t, left - 1);
                }
            }
            int d = substringDistance(n, o);
            int l = n.codePointCount(0, n.length());
            dist += d;
            len += l;
            regions.add(new Region(target, n, d, l == 0 ? 1.0 : Math.max(0, 1.0 - (double) d / l)));
        }
        double wa = total == 0 ? 1.0 : (double) matched / total;
        double ned = len == 0 ? 1.0 : Math.max(0, 1.0 - (double) dist / len);
        return new Score(wa, ned, total, matched, regions);
    }

    /** Plain Levenshtein distance over code points. */
    public static int levenshtein(String a, String b) {
        int[] x = a.codePoints().toArray(), y = b.codePoints().toArray();
        int[] prev = new int[y.length + 1], cur = new int[y.length + 1];
        for (int j = 0; j <= y.length; j++) prev[j] = j;
        for (int i = 1; i <= x.length; i++) {
            cur[0] = i;
            for (int j = 1; j <= y.length; j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1));
            }
            int[] t = prev; prev = cur; cur = t;
        }
        return prev[y.length];
    }

    /**
     * The least edit distance between {@code pattern} and any substring of {@code text}: Levenshtein
     * with free deletions of text before and after the match (Sellers' approximate matching).
     */
    public static int substringDistance(String pattern, String text) {
        int[] p = pattern.codePoints().toArray(), t = text.codePoints().toArray();
        if (p.length == 0) return 0;
        int[] prev = new int[p.length + 1], cur = new int[p.length + 1];
        for (int i = 0; i <= p.length; i++) prev[i] = i;
        int best = prev[p.length];
        for (int j = 1; j <= t.length; j++) {
            cur[0] = 0; // a match may start anywhere in the text
            for (int i = 1; i <= p.length; i++) {
                cur[i] = Math.min(Math.min(cur[i - 1] + 1, prev[i] + 1), prev[i - 1] + (p[i - 1] == t[j - 1] ? 0 : 1));
            }
            best = Math.min(best, cur[p.length]);
            int[] s = prev; prev = cur; cur = s;
        }
        return best;
    }
}
