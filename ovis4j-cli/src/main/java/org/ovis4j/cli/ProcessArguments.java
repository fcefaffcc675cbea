package org.ovis4j.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The command-line arguments decoded from the bytes the process received, as strict UTF-8.
 *
 * <p>The JVM decodes argv with the locale's charset ({@code sun.jnu.encoding}) and replaces what it
 * cannot decode with U+FFFD: in the POSIX locale (no LANG, as in containers, CI runners and systemd
 * services) every non-ASCII prompt arrives garbled, and the model then draws the wrong text without
 * any error. Linux keeps the original bytes in {@code /proc/self/cmdline} (NUL-terminated entries; the
 * program's arguments are the last ones), so they are read from there and decoded as UTF-8 whatever
 * the locale, and an invalid byte is reported with its offset. Where that file is missing (not Linux)
 * or does not end with this program's arguments (an embedding JVM), the JVM's own decoding is used.
 */
final class ProcessArguments {
    static final Path CMDLINE = Path.of("/proc/self/cmdline");

    private ProcessArguments() {}

    static String[] of(String[] jvmArgs) {
        if (jvmArgs.length == 0) return jvmArgs;
        byte[] cmdline;
        try {
            cmdline = Files.readAllBytes(CMDLINE);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return jvmArgs;
        }
        return of(jvmArgs, cmdline, Ovis4j.class.getName());
    }

    /**
     * The arguments from {@code cmdline} when its last {@code jvmArgs.length} entries follow the main
     * class (or {@code -jar FILE}); else {@code jvmArgs} unchanged.
     */
    static String[] of(String[] jvmArgs, byte[] cmdline, String mainClass) {
        if (jvmArgs.length == 0) return jvmArgs;
        List<byte[]> entries = entries(cmdline);
        int first = entries.size() - jvmArgs.length;
        if (first < 1) return jvmArgs;
        String before = new String(entries.get(first - 1), StandardCharsets.UTF_8);
        boolean ours = before.equals(mainClass)
                || (first >= 2 && new String(entries.get(first - 2), StandardCharsets.UTF_8).equals("-jar"));
        if (!ours) return jvmArgs;
        String[] args = new String[jvmArgs.length];
        for (int i = 0; i < args.length; i++) args[i] = decode(entries.get(first + i), jvmArgs, i);
        return args;
    }

    /** The NUL-terminated entries of a cmdline file (the last terminator may be missing). */
    static List<byte[]> entries(byte[] cmdline) {
        List<byte[]> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < cmdline.length; i++) {
            if (cmdline[i] == 0) {
                out.add(Arrays.copyOfRange(cmdline, start, i));
                start = i + 1;
            }
        }
        if (start < cmdline.length) out.add(Arrays.copyOfRange(cmdline, start, cmdline.length));
        return out;
    }

    /** Argument i, strictly decoded; the error names the option it is the value of, when that can be told. */
    private static String decode(byte[] raw, String[] jvmArgs, int i) {
        int bad = StrictUtf8.firstInvalidByte(raw);
        if (bad < 0) return new String(raw, StandardCharsets.UTF_8);
        // --name=value: ASCII up to '=' (the bad byte is after it, or the name would not have parsed as ASCII).
        int eq = indexOf(raw, (byte) '=');
        if (raw.length > 2 && raw[0] == '-' && raw[1] == '-' && eq > 2 && eq < bad)
            throw StrictUtf8.invalid(new String(raw, 0, eq, StandardCharsets.US_ASCII), bad - eq - 1, raw[bad]);
        if (i > 0 && jvmArgs[i - 1].startsWith("-") && jvmArgs[i - 1].length() > 1 && !jvmArgs[i - 1].contains("="))
            throw StrictUtf8.invalid(jvmArgs[i - 1], bad, raw[bad]);
        throw StrictUtf8.invalid("argument " + (i + 1), bad, raw[bad]);
    }

    private static int indexOf(byte[] b, byte v) {
        for (int i = 0; i < b.length; i++) if (b[i] == v) return i;
        return -1;
    }
}
