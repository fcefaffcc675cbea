package org.ovis4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TextMetricsTest {
    @Test
    void normalisationFoldsCaseWidthPunctuationAndChineseSpaces() {
        assertEquals("summer sale 50 off", TextNormalizer.normalize("  SUMMER   Sale!\n50% off. "));
        assertEquals("abc 123", TextNormalizer.normalize("ＡＢＣ　１２３"));           // full-width letters, digits, space
        assertEquals("dont stop", TextNormalizer.normalize("Don’t stop"));         // apostrophes vanish
        assertEquals("夏季大促销", TextNormalizer.normalize("夏 季 大 促 销"));         // chi_sim's spaces
        assertEquals("电话346 5147", TextNormalizer.normalize("电话 346-5147"));
        assertEquals("全场八折", TextNormalizer.normalize("全场，八折！"));              // full-width punctuation
        assertEquals(List.of("夏", "季", "sale", "50"), TextNormalizer.tokens("夏季 sale 50"));
    }

    @Test
    void perfectReadingScoresOne() {
        TextMetrics.Score s = TextMetrics.score(List.of("Summer Sale", "Up to 50% off"), "summer sale\nUP TO 50% OFF\nextra words");
        assertEquals(1.0, s.wordAccuracy());
        assertEquals(1.0, s.ned());
        assertEquals("summer sale", s.regions().get(0).matched());
    }

    @Test
    void swappedLetterAndMissingWordCostWhatTheDefinitionSays() {
        // "summer" read as "smumer": 2 edits, under half of its 6 letters, over the 10 letters of the region.
        TextMetrics.Score swapped = TextMetrics.score(List.of("Summer Sale"), "Smumer Sale");
        assertEquals(0.5, swapped.wordAccuracy());
        assertEquals(1 - 2 / 10.0, swapped.ned(), 1e-12);
        // "sale" read as "slae": 2 edits are half of its 4 letters, so the word is wrong: charged its 4.
        TextMetrics.Score short4 = TextMetrics.score(List.of("Summer Sale"), "Summer Slae");
        assertEquals(0.5, short4.wordAccuracy());
        assertEquals(1 - 4 / 10.0, short4.ned(), 1e-12);
        // A missing word costs its letters.
        TextMetrics.Score missing = TextMetrics.score(List.of("Big Summer Sale"), "Big Summer");
        assertEquals(2 / 3.0, missing.wordAccuracy(), 1e-12);
        assertEquals(1 - 4 / 13.0, missing.ned(), 1e-12);
        // An extra word inside the run costs its letters too.
        TextMetrics.Score extra = TextMetrics.score(List.of("Summer Sale"), "summer big sale");
        assertEquals(1.0, extra.wordAccuracy());
        assertEquals(1 - 3 / 10.0, extra.ned(), 1e-12);
        // Nothing read at all.
        TextMetrics.Score none = TextMetrics.score(List.of("Summer Sale"), "");
        assertEquals(0.0, none.wordAccuracy());
        assertEquals(0.0, none.ned());
        assertNull(none.regions().get(0).reading());
    }

    @Test
    void aRegionReadAtMostHalfRightIsAbsent() {
        // One of two words, 4 of 9 letters: not more than half, which chance reaches too: absent.
        TextMetrics.Score half = TextMetrics.score(List.of("Open Daily"), "open");
        assertEquals(0.0, half.wordAccuracy());
        assertEquals(0.0, half.ned());
        // A different word that shares letters earns nothing ("oven" for "open" is 1 edit of 4: it does).
        assertEquals(0.0, TextMetrics.score(List.of("Summer"), "Winter").ned());
        assertEquals(0.75, TextMetrics.score(List.of("Open"), "Oven").ned(), 1e-12);
        // A common Chinese character among noise: 1 of 4 characters is chance.
        TextMetrics.Score zh = TextMetrics.score(List.of("了解更多"), "二 了 本 人");
        assertEquals(0.0, zh.wordAccuracy());
        assertEquals(0.0, zh.ned());
    }

    @Test
    void theMatchIsOneContiguousRunOfWholeWords() {
        // The region's words far apart, with other words between: the run pays for the words inside it.
        // Five one-letter words in between cost 5, as much as leaving "fresh" out; at equal cost the
        // alignment with more words right wins.
        TextMetrics.Score apart = TextMetrics.score(List.of("fresh bread daily"), "fresh x y z w v bread daily");
        assertEquals(1 - 5 / 15.0, apart.ned(), 1e-12);
        assertEquals(1.0, apart.wordAccuracy());
        // A fragment inside a longer OCR word does not match: "pen" is not in "open" here.
        assertEquals(0.0, TextMetrics.score(List.of("pen"), "opener").ned());
        // Whole words may be split or run together by the OCR: right when the joined letters are.
        assertEquals(1.0, TextMetrics.score(List.of("Summer"), "Sum mer").ned());
        assertEquals(1.0, TextMetrics.score(List.of("Summer Sale"), "summersale").wordAccuracy());
        // A near miss across a split is not taken: "sumn" + "er" is charged as the word it stands for.
        assertEquals(0.0, TextMetrics.score(List.of("Summer"), "Sumn er").ned());
    }

    @Test
    void readingsAreScoredSeparatelyNeverJoined() {
        OcrReading a = OcrReading.ofText("a", "Summer");
        OcrReading b = OcrReading.ofText("b", "Sale");
        OcrReading c = OcrReading.ofText("c", "Big");
        // Together the three readings spell the region; each alone has less than half of it, and
        // they are not added up.
        TextMetrics.Score split = TextMetrics.score(List.of("Big Summer Sale"), List.of(a, b, c));
        assertEquals(0.0, split.ned());
        assertEquals(0.0, split.wordAccuracy());
        // Each region takes the best reading on its own.
        TextMetrics.Score two = TextMetrics.score(List.of("Summer", "Sale"), List.of(a, b));
        assertEquals(1.0, two.ned());
        assertEquals("a", two.regions().get(0).reading());
        assertEquals("b", two.regions().get(1).reading());
    }

    @Test
    void wordsBelowTheReadingsConfidenceFloorAreLeftOut() {
        OcrReading.Line line = new OcrReading.Line(List.of(new OcrReading.Word("Grand", 0.93), new OcrReading.Word("Opening", 0.31)));
        TextMetrics.Score kept = TextMetrics.score(List.of("Grand Opening"), List.of(new OcrReading("r", List.of(line), 0.0)));
        assertEquals(1.0, kept.ned());
        // Without its low-confidence word the reading has 5 of 12 letters: absent.
        TextMetrics.Score floored = TextMetrics.score(List.of("Grand Opening"), List.of(new OcrReading("r", List.of(line), 0.5)));
        assertEquals(0.0, floored.ned());
        assertEquals(1.0, TextMetrics.score(List.of("Grand"), List.of(new OcrReading("r", List.of(line), 0.5))).ned());
    }

    @Test
    void chineseIsScoredPerCharacter() {
        TextMetrics.Score s = TextMetrics.score(List.of("夏季大促销"), "夏 季 大 保 销");
        assertEquals(0.8, s.wordAccuracy(), 1e-12);
        assertEquals(0.8, s.ned(), 1e-12);
    }

    @Test
    void regionsAreOrderFree() {
        TextMetrics.Score s = TextMetrics.score(List.of("sale sale"), "sale");
        assertEquals(0.0, s.wordAccuracy());  // half of it: absent
        TextMetrics.Score order = TextMetrics.score(List.of("first line", "second line"), "second line\nfirst line");
        assertEquals(1.0, order.ned());
        assertEquals(1.0, order.wordAccuracy());
    }

    /**
     * The dynamic programme against an exhaustive search on random short words over a 3-letter
     * alphabet (so that near misses, splits and merges all occur): every contiguous run of OCR
     * words and every way to account for it, with the costs of the class comment. Compared: the
     * least cost, and the most exact words at that cost.
     */
    @Test
    void alignmentMatchesExhaustiveSearchOnRandomWords() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 2000; trial++) {
            List<String> target = randomWords(rnd, 1 + rnd.nextInt(4));
            List<String> ocr = randomWords(rnd, rnd.nextInt(7));
            long best = Long.MAX_VALUE;
            for (int s = 0; s <= ocr.size(); s++) {
                for (int e = s; e <= ocr.size(); e++) best = Math.min(best, search(target, 0, ocr.subList(s, e), 0));
            }
            RegionAlignment.Result r = RegionAlignment.align(target, ocr);
            long cost = Math.floorDiv(best + 999, 1000);  // exact words are fewer than 1000
            assertEquals(cost, r.distance(), target + " vs " + ocr);
            assertEquals(cost * 1000 - best, r.exactWords(), target + " vs " + ocr);
        }
    }

    static List<String> randomWords(Random rnd, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder b = new StringBuilder();
            for (int c = 1 + rnd.nextInt(5); c > 0; c--) b.append("abc".charAt(rnd.nextInt(3)));
            out.add(b.toString());
        }
        return out;
    }

    /** Least (cost * 1000 - exact words) accounting for target words i.. with all of run words j.. */
    static long search(List<String> t, int i, List<String> run, int j) {
        if (i == t.size()) {
            long c = 0;
            for (int x = j; x < run.size(); x++) c += run.get(x).length();      // words nobody asked for
            return c * 1000;
        }
        String w = t.get(i);
        long best = w.length() * 1000L + search(t, i + 1, run, j);             // the word is missing
        if (j < run.size()) {
            best = Math.min(best, run.get(j).length() * 1000L + search(t, i, run, j + 1));
            int d = TextMetrics.levenshtein(w, run.get(j));
            long cost = (2 * d < w.length() ? d : w.length()) * 1000L - (d == 0 ? 1 : 0);
            best = Math.min(best, cost + search(t, i + 1, run, j + 1));
        }
        if (j + 1 < run.size() && w.equals(run.get(j) + run.get(j + 1))) {     // split by the OCR
            best = Math.min(best, -1 + search(t, i + 1, run, j + 2));
        }
        if (i + 1 < t.size() && j < run.size() && (w + t.get(i + 1)).equals(run.get(j))) {  // run together
            best = Math.min(best, -2 + search(t, i + 2, run, j + 1));
        }
        return best;
    }

    @Test
    void levenshteinCountsCodePoints() {
        assertEquals(3, TextMetrics.levenshtein("kitten", "sitting"));
        assertEquals(1, TextMetrics.levenshtein("夏季", "夏秋"));
        assertEquals(0, TextMetrics.levenshtein("", ""));
        assertEquals(2, TextMetrics.levenshtein("ab", ""));
    }
}
