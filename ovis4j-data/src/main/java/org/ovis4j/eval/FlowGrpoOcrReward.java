package org.ovis4j.eval;

import java.util.List;
import java.util.Locale;
import org.ovis4j.core.OvisException;

/**
 * Flow-GRPO's OCR reward, computed exactly as {@code flow_grpo/ocr.py} ({@code OcrScorer.__call__})
 * computes it from the OCR engine's detected lines, so that a policy trained here is rewarded as
 * there (spec section 9.7, goldens README 9.8):
 * <pre>
 * target = the text between the prompt's first and second '"'
 * ocr    = the texts of the lines with confidence &gt; 0, joined without separator
 * t, o   = target and ocr with every U+0020 space removed, lower-cased
 * dist   = 0 if t occurs in o, else Levenshtein(o, t), then at most |t|
 * reward = 1 − dist / |t|
 * </pre>
 * This is not the evaluator's ruler ({@link TextMetrics}): the substring rule and the joining of
 * lines let fragments and surrounding text count, which is the point of a dense training signal and
 * not of a benchmark score (docs/evaluation.md compares the two). Lengths are in code points and
 * lower-casing is Unicode's full mapping, as in Python ({@code str.lower}, {@code len}).
 */
public final class FlowGrpoOcrReward {
    private FlowGrpoOcrReward() {}

    /** One detected line as the OCR engine gives it (PaddleOCR: text and recognition score). */
    public record OcrLine(String text, double confidence) {}

    /**
     * @param target    the quoted text of the prompt
     * @param targetNorm target without spaces, lower case
     * @param ocrNorm   joined OCR text without spaces, lower case
     * @param substring whether targetNorm occurs in ocrNorm (then distance is 0)
     * @param distance  the clamped distance
     * @param reward    1 − distance / |targetNorm|, in [0, 1]
     */
    public record Result(String target, String targetNorm, String ocrNorm, boolean substring, int distance, double reward) {}

    /** Python's {@code prompt.split('"')[1]}: from the first double quote to the next one, or to the end. */
    public static String target(String prompt) {
        int open = prompt.indexOf('"');
        if (open < 0) throw new OvisException("prompt has no double-quoted text for the OCR reward: " + prompt);
        int close = prompt.indexOf('"', open + 1);
        return prompt.substring(open + 1, close < 0 ? prompt.length() : close);
    }

    public static Result score(String prompt, List<OcrLine> lines) {
        String target = target(prompt);
        StringBuilder joined = new StringBuilder();
        for (OcrLine l : lines) if (l.confidence() > 0) joined.append(l.text());
        String t = normalize(target), o = normalize(joined.toString());
        int len = t.codePointCount(0, t.length());
        // flow_grpo divides by zero here; a reward needs a target.
        if (len == 0) throw new OvisException("the quoted text of the prompt is empty, so it has no OCR reward: " + prompt);
        boolean substring = o.contains(t);
        int dist = substring ? 0 : Math.min(TextMetrics.levenshtein(o, t), len);
        return new Result(target, t, o, substring, dist, 1 - (double) dist / len);
    }

    public static double reward(String prompt, List<OcrLine> lines) {
        return score(prompt, lines).reward();
    }

    /** Only U+0020 is removed (newlines and other spaces stay), then Unicode lower case. */
    static String normalize(String s) {
        return s.replace(" ", "").toLowerCase(Locale.ROOT);
    }
}
