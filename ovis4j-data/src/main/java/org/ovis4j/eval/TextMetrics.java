package org.ovis4j.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Scores the OCR readings of one image against the target texts of its prompt. Both metrics mean
 * "the target text is in the image" (definitions and measurements in docs/evaluation.md):
 * <ul>
 *   <li>each target region is aligned with a contiguous run of whole words of one reading
 *       ({@link RegionAlignment}); of all readings, the one with the least edit cost counts for that
 *       region. Readings are never joined, so fragments read in different passes cannot add up;</li>
 *   <li>a region whose best alignment gets at most half of its characters right counts as absent
 *       (cost = its length, no word right): agreement below that level is what noise and unrelated
 *       text reach by chance;</li>
 *   <li><b>word accuracy</b> = target words (Chinese: characters) aligned with an identical OCR
 *       word / target words;</li>
 *   <li><b>NED</b> = 1 − Σ region cost / Σ region length (characters of the words, spaces not
 *       counted), so higher is better.</li>
 * </ul>
 * Text in the image that no target asks for is not penalised, and regions may be read in any order.
 */
public final class TextMetrics {
    private TextMetrics() {}

    /**
     * One region's result.
     *
     * @param text         the target as the prompt gives it
     * @param normalized   after {@link TextNormalizer}
     * @param distance     edit cost of its best alignment, in characters (its length when absent)
     * @param ned          1 − distance / length
     * @param words        its words (Chinese: characters)
     * @param matchedWords those read exactly
     * @param reading      name of the reading its alignment comes from, or null when absent
     * @param matched      the run of (normalised) OCR words it was aligned with, or null when absent
     */
    public record Region(String text, String normalized, int distance, double ned, int words, int matchedWords,
                         String reading, String matched) {}

    public record Score(double wordAccuracy, double ned, int targetWords, int matchedWords, List<Region> regions) {}

    /** Plain OCR text, as one reading (lines at newlines). */
    public static Score score(List<String> targets, String ocr) {
        return score(targets, List.of(OcrReading.ofText("text", ocr)));
    }

    public static Score score(List<String> targets, List<OcrReading> readings) {
        List<List<String>> tokens = new ArrayList<>();
        for (OcrReading r : readings) tokens.add(tokens(r));
        int total = 0, matched = 0, dist = 0, len = 0;
        List<Region> regions = new ArrayList<>();
        for (String target : targets) {
            String n = TextNormalizer.normalize(target);
            List<String> words = TextNormalizer.tokens(n);
            int l = 0;
            for (String w : words) l += w.codePointCount(0, w.length());
            RegionAlignment.Result best = null;
            int bestReading = -1;
            for (int r = 0; r < readings.size(); r++) {
                RegionAlignment.Result a = RegionAlignment.align(words, tokens.get(r));
                if (best == null || a.distance() < best.distance()
                        || (a.distance() == best.distance() && a.exactWords() > best.exactWords())) {
                    best = a;
                    bestReading = r;
                }
            }
            Region region;
            if (best == null || !RegionAlignment.similar(best.distance(), l)) {
                // Absent: nothing, or no more than half of it (chance level), was read.
                region = new Region(target, n, l, l == 0 ? 1.0 : 0.0, words.size(), 0, null, null);
            } else {
                String run = String.join(" ", tokens.get(bestReading).subList(best.start(), best.end()));
                region = new Region(target, n, best.distance(), 1.0 - (double) best.distance() / l, words.size(),
                        best.exactWords(), readings.get(bestReading).name(), run);
            }
            regions.add(region);
            total += region.words();
            matched += region.matchedWords();
            dist += region.distance();
            len += l;
        }
        double wa = total == 0 ? 1.0 : (double) matched / total;
        double ned = len == 0 ? 1.0 : 1.0 - (double) dist / len;
        return new Score(wa, ned, total, matched, regions);
    }

    /** The reading's words at or above its confidence floor, normalised and split as target words are. */
    static List<String> tokens(OcrReading reading) {
        List<String> out = new ArrayList<>();
        for (OcrReading.Line line : reading.lines()) {
            for (OcrReading.Word w : line.words()) {
                if (w.confidence() >= reading.minConfidence()) out.addAll(TextNormalizer.tokens(TextNormalizer.normalize(w.text())));
            }
        }
        return out;
    }

    /** Plain Levenshtein distance over code points. */
    public static int levenshtein(String a, String b) {
        return levenshtein(a.codePoints().toArray(), b.codePoints().toArray());
    }

    /** Plain Levenshtein distance (unit insert, delete, substitute). */
    public static int levenshtein(int[] x, int[] y) {
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
}
