package org.ovis4j.eval;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The normalisation applied to both the target texts and the OCR output before scoring, so that
 * differences which are not rendering errors do not count (see docs/evaluation.md):
 * <ol>
 *   <li>Unicode NFKC: full-width letters, digits and punctuation become their ASCII forms;</li>
 *   <li>lower case;</li>
 *   <li>apostrophes are removed; every other punctuation or symbol character becomes a space;</li>
 *   <li>runs of white space become one space, trimmed at both ends;</li>
 *   <li>spaces next to a Chinese character are removed (Chinese is written without spaces, and
 *       Tesseract's chi_sim model puts a space between characters).</li>
 * </ol>
 */
public final class TextNormalizer {
    private TextNormalizer() {}

    public static boolean isCjk(int cp) {
        Character.UnicodeScript s = Character.UnicodeScript.of(cp);
        return s == Character.UnicodeScript.HAN || s == Character.UnicodeScript.HIRAGANA
                || s == Character.UnicodeScript.KATAKANA || s == Character.UnicodeScript.HANGUL;
    }

    public static String normalize(String text) {
        String s = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(cp -> {
            if (cp == '\'' || cp == '\u2019' || cp == '\u2018' || cp == '`') return;
            int type = Character.getType(cp);
            boolean punct = switch (type) {
                case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                     Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                     Character.OTHER_PUNCTUATION, Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL,
                     Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL -> true;
                default -> false;
            };
            if (punct || Character.isWhitespace(cp) || Character.isSpaceChar(cp) || Character.isISOControl(cp)) b.append(' ');
            else b.appendCodePoint(cp);
        });
        // Collapse spaces, dropping those that touch a CJK character.
        StringBuilder out = new StringBuilder();
        int[] cps = b.toString().codePoints().toArray();
        for (int i = 0; i < cps.length; i++) {
            int cp = cps[i];
            if (cp != ' ') {
                out.appendCodePoint(cp);
                continue;
            }
            if (out.isEmpty() || out.charAt(out.length() - 1) == ' ') continue;
            int prev = out.codePointBefore(out.length());
            int j = i;
            while (j < cps.length && cps[j] == ' ') j++;
            if (j == cps.length) break;
            if (isCjk(prev) || isCjk(cps[j])) continue;
            out.append(' ');
        }
        return out.toString();
    }

    /**
     * Words for word accuracy, from normalised text: space-separated words, except that every
     * Chinese character is a word of its own (the character-level convention of Chinese OCR metrics).
     */
    public static List<String> tokens(String normalized) {
        List<String> out = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        normalized.codePoints().forEach(cp -> {
            if (cp == ' ' || isCjk(cp)) {
                if (!word.isEmpty()) out.add(word.toString());
                word.setLength(0);
                if (cp != ' ') out.add(new String(Character.toChars(cp)));
            } else {
                word.appendCodePoint(cp);
            }
        });
        if (!word.isEmpty()) out.add(word.toString());
        return out;
    }
}
