package org.ovis4j.data.words;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.ovis4j.core.OvisException;

/**
 * A vocabulary file: one English word per line, letters a-z only (any case; kept in lower case,
 * since case is a rendering choice, not part of the word), 3 to 10 letters, no repeats. Blank
 * lines are skipped. Every problem is an error naming the file and line: a model trained on a
 * word list is defined by it, so nothing is silently dropped or repaired.
 *
 * @param file  where it was read from (for messages)
 * @param words the words in file order, lower case
 */
public record WordList(Path file, List<String> words) {
    public static final int MIN_LETTERS = 3, MAX_LETTERS = 10;

    public WordList {
        words = List.copyOf(words);
    }

    public static WordList read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new OvisException(file + ": cannot read the word list ("
                    + (Files.exists(file) ? e.getMessage() : "no such file") + ")");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new OvisException(file + ": not UTF-8 text");
        }
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        List<String> words = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int n = 1; n <= lines.length; n++) {
            String w = lines[n - 1].strip();
            if (w.isEmpty()) continue;
            String where = file + ":" + n + ": ";
            for (int i = 0; i < w.length(); i++) {
                char c = w.charAt(i);
                if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')) {
                    throw new OvisException(where + "'" + w + "' is not a word of letters a-z (one word per line)");
                }
            }
            if (w.length() < MIN_LETTERS || w.length() > MAX_LETTERS) {
                throw new OvisException(where + "'" + w + "' has " + w.length() + " letters (" + MIN_LETTERS + " to "
                        + MAX_LETTERS + " allowed)");
            }
            String lower = w.toLowerCase(Locale.ROOT);
            Integer before = seen.putIfAbsent(lower, n);
            if (before != null) throw new OvisException(where + "'" + w + "' is already on line " + before);
            words.add(lower);
        }
        if (words.isEmpty()) throw new OvisException(file + ": no words (expected one word per line)");
        return new WordList(file, words);
    }

    public int size() {
        return words.size();
    }

    public String get(int i) {
        return words.get(i);
    }

    /** Fails naming the first word of {@code other} that is also in this list. */
    public void requireDisjoint(WordList other) {
        Set<String> mine = Set.copyOf(words);
        for (String w : other.words) {
            if (mine.contains(w)) {
                throw new OvisException(other.file + ": '" + w + "' is also in " + file
                        + " (the spelling test needs words the model was not trained on)");
            }
        }
    }
}
