package org.ovis4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
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
    }

    @Test
    void swappedLetterAndMissingWordCostWhatTheDefinitionSays() {
        // "sale" read as "slae": one of two words wrong; two edits over the 11 characters of "summer sale".
        TextMetrics.Score swapped = TextMetrics.score(List.of("Summer Sale"), "Summer Slae");
        assertEquals(0.5, swapped.wordAccuracy());
        assertEquals(1 - 2 / 11.0, swapped.ned(), 1e-12);
        // A missing word: 5 deletions ("sale" and its space) over 11.
        TextMetrics.Score missing = TextMetrics.score(List.of("Summer Sale"), "Summer");
        assertEquals(0.5, missing.wordAccuracy());
        assertEquals(1 - 5 / 11.0, missing.ned(), 1e-12);
        // Nothing read at all.
        TextMetrics.Score none = TextMetrics.score(List.of("Summer Sale"), "");
        assertEquals(0.0, none.wordAccuracy());
        assertEquals(0.0, none.ned());
    }

    @Test
    void chineseIsScoredPerCharacter() {
        TextMetrics.Score s = TextMetrics.score(List.of("夏季大促销"), "夏 季 大 保 销");
        assertEquals(0.8, s.wordAccuracy(), 1e-12);
        assertEquals(0.8, s.ned(), 1e-12);
    }

    @Test
    void eachOcrWordMatchesOnceAndRegionsAreOrderFree() {
        TextMetrics.Score s = TextMetrics.score(List.of("sale sale"), "sale");
        assertEquals(0.5, s.wordAccuracy());
        TextMetrics.Score order = TextMetrics.score(List.of("first line", "second line"), "second line\nfirst line");
        assertEquals(1.0, order.ned());
        assertEquals(1.0, order.wordAccuracy());
    }

    @Test
    void substringDistanceIgnoresSurroundingText() {
        assertEquals(0, TextMetrics.substringDistance("sale", "big sale today"));
        assertEquals(1, TextMetrics.substringDistance("sale", "big sole today"));
        assertEquals(3, TextMetrics.levenshtein("kitten", "sitting"));
    }
}
