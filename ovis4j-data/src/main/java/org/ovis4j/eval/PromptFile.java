package org.ovis4j.eval;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.data.render.Lang;

/**
 * Reads evaluation prompts: JSON Lines, one object per line with {@code id}, {@code prompt},
 * optional {@code texts} (the strings the image must show) and optional {@code lang} ("en"/"zh").
 * Without {@code texts} the targets are the quoted spans of the prompt; without {@code lang} a
 * prompt whose targets contain Chinese characters is Chinese. Every error names file and line.
 */
public final class PromptFile {
    private PromptFile() {}

    public record Prompt(String id, String prompt, List<String> texts, Lang lang, int line) {}

    /** Opening quote to closing quote: ASCII, curly double, corner brackets, curly single. */
    private static final Map<Character, Character> QUOTES = Map.of('"', '"', '\u201C', '\u201D', '\u300C', '\u300D',
            '\u300E', '\u300F', '\u2018', '\u2019');

    public static List<Prompt> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new OvisException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new OvisException(file + ": cannot read (" + (Files.exists(file) ? e.getMessage() : "no such file") + ")");
        }
        List<Prompt> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int n = 1; n <= lines.size(); n++) {
            String raw = lines.get(n - 1).strip();
            if (n == 1 && raw.startsWith("\uFEFF")) raw = raw.substring(1);
            if (raw.isEmpty()) continue;
            Prompt p = parse(file, n, raw);
            Integer before = seen.putIfAbsent(p.id(), n);
            if (before != null) throw new OvisException(file + ":" + n + ": id '" + p.id() + "' already used on line " + before);
            out.add(p);
        }
        if (out.isEmpty()) throw new OvisException(file + ": no prompts (expected one JSON object per line)");
        return out;
    }

    @SuppressWarnings("unchecked")
    static Prompt parse(Path file, int n, String raw) {
        String where = file + ":" + n + ": ";
        Object v;
        try {
            v = Json.parse(raw);
        } catch (Json.JsonException e) {
            throw new OvisException(where + e.getMessage());
        }
        if (!(v instanceof Map)) throw new OvisException(where + "expected a JSON object");
        Map<String, Object> m = (Map<String, Object>) v;
        Object idv = m.get("id");
        String id;
        if (idv instanceof String s && !s.isBlank()) id = s;
        else if (idv instanceof Long l) id = Long.toString(l);
        else throw new OvisException(where + "missing \"id\" (a string or integer)");
        if (id.contains("/") || id.contains("\\") || id.equals("..")) throw new OvisException(where + "id '" + id + "' must not contain a path");
        Object pv = m.get("prompt");
        if (pv != null && !(pv instanceof String)) throw new OvisException(where + "\"prompt\" must be a string");
        String prompt = (String) pv;
        List<String> texts;
        Object tv = m.get("texts");
        if (tv != null) {
            if (!(tv instanceof List<?> list) || list.isEmpty()) throw new OvisException(where + "\"texts\" must be a non-empty array of strings");
            texts = new ArrayList<>();
            for (Object o : list) {
                if (!(o instanceof String s) || s.isBlank()) throw new OvisException(where + "\"texts\" must hold non-empty strings");
                texts.add(s);
            }
        } else {
            if (prompt == null) throw new OvisException(where + "needs \"prompt\" or \"texts\"");
            texts = quoted(prompt);
            if (texts.isEmpty()) {
                throw new OvisException(where + "prompt " + id + " has no quoted text to check (quote it with \"...\", “...”, 「...」 or ‘...’, or add \"texts\")");
            }
        }
        Lang lang;
        Object lv = m.get("lang");
        if (lv != null) {
            if (!(lv instanceof String ls)) throw new OvisException(where + "\"lang\" must be a string");
            try {
                lang = Lang.of(ls);
            } catch (OvisException e) {
                throw new OvisException(where + e.getMessage());
            }
        } else {
            lang = texts.stream().anyMatch(t -> t.codePoints().anyMatch(TextNormalizer::isCjk)) ? Lang.ZH : Lang.EN;
        }
        return new Prompt(id, prompt == null ? "" : prompt, List.copyOf(texts), lang, n);
    }

    /**
     * Where a quote opened at {@code from - 1} closes. The right single quote doubles as the
     * apostrophe, so for ‘...’ a ’ followed by a letter ("Don’t") is skipped as an apostrophe.
     */
    private static int closing(String s, char open, char close, int from) {
        int end = s.indexOf(close, from);
        if (open != '\u2018') return end;
        while (end >= 0 && end + 1 < s.length() && Character.isLetterOrDigit(s.charAt(end + 1))) end = s.indexOf(close, end + 1);
        return end;
    }

    /** The quoted spans in order of appearance; an unclosed quote is ignored. */
    public static List<String> quoted(String prompt) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < prompt.length()) {
            char c = prompt.charAt(i);
            Character close = QUOTES.get(c);
            if (close != null) {
                int end = closing(prompt, c, close, i + 1);
                if (end > i + 1) {
                    String s = prompt.substring(i + 1, end).strip();
                    if (!s.isEmpty()) out.add(s);
                    i = end + 1;
                    continue;
                }
            }
            i++;
        }
        return out;
    }
}
