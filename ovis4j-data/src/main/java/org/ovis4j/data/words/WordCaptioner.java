package org.ovis4j.data.words;

import org.ovis4j.data.render.Rng;

/**
 * The prompt of a word scene, in the style the model is trained and asked in: one short noun
 * phrase naming the object and its colour, sometimes the text's colour and the background's, and
 * the text in double quotes, e.g. {@code A white sign with blue text that says "OPEN DOOR"}. Only
 * facts of the scene are stated, and the quoted text is exactly what is drawn (the evaluator's
 * ground truth).
 */
public final class WordCaptioner {
    private WordCaptioner() {}

    public static String caption(WordScene s, Rng rng) {
        boolean sayText = rng.chance(0.5);
        boolean sayBack = s.hasBackground() && rng.chance(0.5);
        double verb = rng.nextDouble();
        StringBuilder b = new StringBuilder();
        b.append(article(s.objectColor())).append(' ').append(s.objectColor()).append(' ').append(s.object().noun);
        if (sayText) b.append(" with ").append(s.textColor()).append(" text");
        if (sayBack) b.append(" on ").append(article(s.backColor())).append(' ').append(s.backColor()).append(" background");
        if (verb < 0.75) b.append(" that says ");
        else if (verb < 0.9) b.append(" that reads ");
        else if (!sayText) b.append(s.words().size() == 1 ? " with the word " : " with the words ");
        else b.append(" that says "); // "with blue text with the word" reads badly
        b.append('"').append(s.text()).append('"');
        b.setCharAt(0, Character.toUpperCase(b.charAt(0)));
        return b.toString();
    }

    static String article(String word) {
        return "aeiou".indexOf(word.charAt(0)) >= 0 ? "an" : "a";
    }
}
