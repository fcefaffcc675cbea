package org.ovis4j.data.words;

import java.util.Locale;
import org.ovis4j.core.OvisException;
import org.ovis4j.data.render.Rng;

/**
 * How the words of a sample are capitalised. The prompt quotes the text exactly as drawn, so the
 * case a model is trained on is the case it is asked for; the OCR scorer lower-cases both sides,
 * so the score does not depend on it.
 */
public enum LetterCase {
    UPPER("upper"), TITLE("title"), LOWER("lower"),
    /** Upper 50%, title 30%, lower 20% of samples. */
    MIXED("mixed");

    public final String id;

    LetterCase(String id) {
        this.id = id;
    }

    public static LetterCase of(String s) {
        for (LetterCase c : values()) if (c.id.equals(s.strip().toLowerCase(Locale.ROOT))) return c;
        throw new OvisException("--case '" + s + "' is not one of upper, title, lower, mixed");
    }

    /** The concrete case of one sample: this one, or for MIXED a draw from the stream. */
    public LetterCase resolve(Rng rng) {
        if (this != MIXED) return this;
        double u = rng.nextDouble();
        return u < 0.5 ? UPPER : u < 0.8 ? TITLE : LOWER;
    }

    /** The word (lower case, letters only) written in this case. */
    public String apply(String word) {
        return switch (this) {
            case UPPER -> word.toUpperCase(Locale.ROOT);
            case LOWER -> word;
            case TITLE -> Character.toUpperCase(word.charAt(0)) + word.substring(1);
            case MIXED -> throw new IllegalStateException("resolve a mixed case first");
        };
    }
}
