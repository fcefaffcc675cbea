package org.ovis4j.data.words;

import java.util.List;

/**
 * What a word sample shows, decided before anything is laid out: the facts its caption states.
 * Colours are given by name (what the caption says) and by the exact RGB drawn, whose name the
 * colour namer agrees with.
 *
 * @param words       the words, as in the words file (lower case), in reading order
 * @param letterCase  how they are written (never MIXED)
 * @param text        the words in that case joined by spaces: what is drawn and quoted
 * @param object      the kind of object the text is on
 * @param objectColor name of the object's colour (for a poster, the whole picture's)
 * @param objectRgb   the object's fill
 * @param textColor   name of the text's colour
 * @param textRgb     the text's fill
 * @param backColor   name of the colour around the object (equal to objectColor for a poster)
 * @param backRgb     the background's base colour
 */
public record WordScene(List<String> words, LetterCase letterCase, String text, SceneObject object,
                        String objectColor, int objectRgb, String textColor, int textRgb,
                        String backColor, int backRgb) {
    public WordScene {
        words = List.copyOf(words);
    }

    /** Whether the object stands on a background of its own (everything but a poster does). */
    public boolean hasBackground() {
        return object != SceneObject.POSTER;
    }
}
