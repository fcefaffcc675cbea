package org.ovis4j.hub;

import java.util.List;
import java.util.regex.Pattern;

/**
 * An {@code --include} pattern, matched as huggingface_hub's {@code allow_patterns} are (Python's {@code fnmatchcase}):
 * {@code *} is any run of characters, slashes included ({@code transformer/*} takes the whole folder), {@code ?} one
 * character, {@code [seq]} and {@code [!seq]} a set; case-sensitive; a pattern ending in {@code /} means everything
 * under that folder.
 */
public final class FileGlob {
    private final String pattern;
    private final Pattern regex;

    private FileGlob(String pattern) {
        this.pattern = pattern;
        this.regex = Pattern.compile(translate(pattern.endsWith("/") ? pattern + "*" : pattern), Pattern.DOTALL);
    }

    public static FileGlob of(String pattern) {
        return new FileGlob(pattern);
    }

    public boolean matches(String path) {
        return regex.matcher(path).matches();
    }

    /** No patterns: every file; otherwise the files matching at least one. */
    public static boolean anyMatches(List<FileGlob> globs, String path) {
        return globs.isEmpty() || globs.stream().anyMatch(g -> g.matches(path));
    }

    @Override
    public String toString() {
        return pattern;
    }

    private static String translate(String glob) {
        StringBuilder re = new StringBuilder();
        int n = glob.length();
        for (int i = 0; i < n; i++) {
            char c = glob.charAt(i);
            if (c == '*') {
                re.append(".*");
            } else if (c == '?') {
                re.append('.');
            } else if (c == '[') {
                int j = i + 1;
                if (j < n && glob.charAt(j) == '!') j++;
                if (j < n && glob.charAt(j) == ']') j++;
                while (j < n && glob.charAt(j) != ']') j++;
                if (j >= n) {
                    re.append("\\["); // no closing bracket: a literal '[', as fnmatch
                } else {
                    String set = glob.substring(i + 1, j);
                    StringBuilder cls = new StringBuilder("[");
                    int k = 0;
                    if (set.startsWith("!")) {
                        cls.append('^');
                        k = 1;
                    }
                    for (; k < set.length(); k++) {
                        char s = set.charAt(k);
                        if (s == '\\' || s == '[' || s == ']' || s == '&' || s == '^' || s == '~') cls.append('\\');
                        cls.append(s);
                    }
                    re.append(cls).append(']');
                    i = j;
                }
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return re.toString();
    }
}
