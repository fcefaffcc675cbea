package org.ovis4j.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * What one OCR pass over an image read: its lines, in the engine's reading order, each a list of
 * words with the engine's confidence. An engine may read an image several ways (see
 * {@link TesseractOcr}); each way is one reading, and readings are scored separately, never
 * joined into one text (docs/evaluation.md, "How readings combine").
 *
 * @param name          which pass this is, for the report ("grey", "ink map", "line crops")
 * @param lines         the lines read, top to bottom as the engine orders them, every word kept
 * @param minConfidence the confidence below which the engine's words are guesses, left out when
 *                      scoring (engine- and model-specific: see {@link TesseractOcr#minConfidence})
 */
public record OcrReading(String name, List<Line> lines, double minConfidence) {
    public OcrReading {
        lines = List.copyOf(lines);
    }

    /**
     * @param text       the word as the engine spelled it (not normalised)
     * @param confidence the engine's confidence in [0, 1]; 1 when the engine gives none
     */
    public record Word(String text, double confidence) {}

    public record Line(List<Word> words) {
        public Line {
            words = List.copyOf(words);
        }

        public String text() {
            StringBuilder b = new StringBuilder();
            for (Word w : words) {
                if (!b.isEmpty()) b.append(' ');
                b.append(w.text());
            }
            return b.toString();
        }
    }

    /** The reading as plain text: words separated by spaces, lines by newlines. */
    public String text() {
        StringBuilder b = new StringBuilder();
        for (Line l : lines) {
            if (!b.isEmpty()) b.append('\n');
            b.append(l.text());
        }
        return b.toString();
    }

    /**
     * Plain text as one reading, for engines that give no words or confidences: lines at newlines,
     * words at white space, every word with confidence 1.
     */
    public static OcrReading ofText(String name, String text) {
        List<Line> lines = new ArrayList<>();
        for (String line : text.split("\\R")) {
            List<Word> words = new ArrayList<>();
            for (String w : line.strip().split("\\s+")) if (!w.isEmpty()) words.add(new Word(w, 1.0));
            if (!words.isEmpty()) lines.add(new Line(words));
        }
        return new OcrReading(name, lines, 0);
    }
}
