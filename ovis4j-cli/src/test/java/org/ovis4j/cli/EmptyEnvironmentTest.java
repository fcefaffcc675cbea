package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command as a user runs it where no locale is set (containers, CI runners, systemd services):
 * a separate process whose environment holds nothing but PATH, so the JVM starts in the POSIX locale.
 * Text must still be UTF-8 end to end: arguments, prompt files, file names and PNG metadata.
 */
class EmptyEnvironmentTest {
    static final Path TINY = CliTest.TINY;
    static final String HELLO_WORLD = "hello 世界";
    /** The real tokenizer's ids of "hello 世界" (the Rust tokenizers library gives the same, see TokenizerQwen3Test). */
    static final String HELLO_WORLD_IDS = "14990 220 99489";
    static final String SIGN = "招牌 \"开业\"";

    static void assertOneLineError(CliProcess.Result r, String expected) {
        assertTrue(r.code() != 0, "expected failure: " + r);
        List<String> lines = r.err().lines().filter(l -> !l.startsWith("WARNING: ") && !l.startsWith("ovis4j: note: ")).toList();
        assertEquals(List.of(expected), lines, "stderr: " + r.err());
    }

    @Test
    void tokenizeThroughTheLauncherReadsTheChineseArgument(@TempDir Path tmp) {
        CliProcess.Result r = CliProcess.launcher(CliProcess.onlyPath(), tmp, null,
                "tokenize", "--model", CliProcess.qwen3Tokenizer().toString(), HELLO_WORLD);
        assertEquals(0, r.code(), r.err());
        assertEquals(HELLO_WORLD_IDS, r.out().strip());
    }

    /** Without the launcher's locale the JVM decodes argv as ASCII; the program reads the argument bytes itself. */
    @Test
    void tokenizeAsPlainJavaInThePosixLocaleReadsTheChineseArgument(@TempDir Path tmp) {
        CliProcess.Result r = CliProcess.java(CliProcess.onlyPath(), tmp, null,
                "tokenize", "--model", CliProcess.qwen3Tokenizer().toString(), HELLO_WORLD);
        assertEquals(0, r.code(), r.err());
        assertEquals(HELLO_WORLD_IDS, r.out().strip());
    }

    @Test
    void promptFileOnStandardInputIsUtf8AndLosesItsFinalNewline(@TempDir Path tmp) {
        CliProcess.Result r = CliProcess.java(CliProcess.onlyPath(), tmp, (HELLO_WORLD + "\n").getBytes(StandardCharsets.UTF_8),
                "tokenize", "--model", CliProcess.qwen3Tokenizer().toString(), "--prompt-file", "-");
        assertEquals(0, r.code(), r.err());
        assertEquals(HELLO_WORLD_IDS, r.out().strip());
    }

    @Test
    void generateKeepsAChinesePromptAndFileName(@TempDir Path tmp) throws IOException {
        String negative = "模糊，低质量";
        CliProcess.Result r = CliProcess.launcher(CliProcess.onlyPath(), tmp, null, "generate", "--model", TINY.toString(),
                "--prompt", SIGN, "--negative-prompt", negative, "--width", "32", "--height", "32", "--steps", "1", "--output", "招牌.png");
        assertEquals(0, r.code(), r.err());
        Path png;
        try (Stream<Path> files = Files.list(tmp)) {
            List<Path> all = files.toList();
            assertEquals(1, all.size(), "files written: " + all);
            png = all.get(0);
        }
        // The file name's bytes, as ls prints them (this JVM may itself decode file names as ASCII).
        CliProcess.Result ls = CliProcess.tool(tmp, "ls");
        assertEquals("招牌.png", ls.out().strip());
        Map<String, String> text = pngText(Files.readAllBytes(png));
        assertEquals(SIGN, text.get("prompt"));
        assertEquals(negative, text.get("negative_prompt"));
    }

    @Test
    void invalidUtf8InAnArgumentIsNamedWithItsByteOffset(@TempDir Path tmp) {
        byte[] prompt = {(byte) 0xe6, (byte) 0x8b, (byte) 0x9b, ' ', (byte) 0xff, 'x'}; // "招 " then a byte no UTF-8 text holds
        CliProcess.Result r = CliProcess.launcher(CliProcess.onlyPath(), tmp, null, "generate", "--model", TINY.toString(),
                "--prompt", prompt, "--width", "32", "--height", "32", "--steps", "1", "--output", "x.png");
        assertOneLineError(r, "ovis4j: --prompt is not valid UTF-8 (byte 4: 0xff)");
        assertEquals(2, r.code());
        assertFalse(Files.exists(tmp.resolve("x.png")));

        byte[] cut = {'a', 'b', (byte) 0xe4, (byte) 0xb8}; // a three-byte sequence missing its last byte
        assertOneLineError(CliProcess.java(CliProcess.onlyPath(), tmp, null, "tokenize", "--model", TINY.toString(), cut),
                "ovis4j: argument 4 is not valid UTF-8 (byte 2: 0xe4)");
        byte[] joined = "--negative-prompt=ok ".getBytes(StandardCharsets.US_ASCII);
        byte[] withBad = java.util.Arrays.copyOf(joined, joined.length + 1);
        withBad[joined.length] = (byte) 0xc0;
        assertOneLineError(CliProcess.java(CliProcess.onlyPath(), tmp, null, "generate", "--model", TINY.toString(), "--prompt", "x", withBad),
                "ovis4j: --negative-prompt is not valid UTF-8 (byte 3: 0xc0)");
    }

    @Test
    void invalidUtf8InAPromptFileIsNamedWithItsByteOffset(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("prompt.txt");
        byte[] good = "招牌 ".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = java.util.Arrays.copyOf(good, good.length + 2);
        bytes[good.length] = (byte) 0xed; // with 0xa0 below: an encoded UTF-16 surrogate, which UTF-8 excludes
        bytes[good.length + 1] = (byte) 0xa0;
        Files.write(file, bytes);
        assertOneLineError(CliProcess.launcher(CliProcess.onlyPath(), tmp, null, "tokenize", "--model", TINY.toString(), "--prompt-file", "prompt.txt"),
                "ovis4j: prompt.txt is not valid UTF-8 (byte 7: 0xed)");
        assertOneLineError(CliProcess.java(CliProcess.onlyPath(), tmp, bytes, "generate", "--model", TINY.toString(), "--prompt-file", "-",
                "--width", "32", "--height", "32", "--output", "x.png"), "ovis4j: standard input is not valid UTF-8 (byte 7: 0xed)");
    }

    @Test
    void aThreadCountThatIsNotANumberIsOneLine(@TempDir Path tmp) {
        Map<String, String> env = new HashMap<>(CliProcess.onlyPath());
        env.put("OVIS4J_THREADS", "abc");
        CliProcess.Result r = CliProcess.java(env, tmp, null, "tokenize", "--model", TINY.toString(), "x");
        assertOneLineError(r, "ovis4j: OVIS4J_THREADS=abc is not a number of threads (expected a whole number from 1 to 4096)");
        assertEquals("", r.out());
    }

    @Test
    void aHeapSizeThatIsNotOneIsOneLineFromTheLauncher(@TempDir Path tmp) {
        Map<String, String> env = new HashMap<>(CliProcess.onlyPath());
        env.put("OVIS4J_HEAP", "lots");
        assertOneLineError(CliProcess.launcher(env, tmp, null, "tokenize", "--model", TINY.toString(), "x"),
                "ovis4j: OVIS4J_HEAP=lots is not a heap size (expected a number with an optional unit k, m or g, e.g. 16g or 8192m)");
        env.put("OVIS4J_HEAP", "16");
        assertOneLineError(CliProcess.launcher(env, tmp, null, "tokenize", "--model", TINY.toString(), "x"),
                "ovis4j: OVIS4J_HEAP=16 is too small a heap (at least 64m; without a unit the number counts bytes)");
        env.put("OVIS4J_HEAP", "256m");
        CliProcess.Result ok = CliProcess.launcher(env, tmp, null, "tokenize", "--model", TINY.toString(), "x<|im_end|>y");
        assertEquals(0, ok.code(), ok.err());
        assertEquals("1022", ok.out().strip().split(" ")[1]);
    }

    /** The PNG's iTXt chunks (keyword → UTF-8 text; this writer stores them uncompressed). */
    static Map<String, String> pngText(byte[] png) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(png));
        in.skipNBytes(8);
        while (in.available() > 0) {
            int length = in.readInt();
            String type = new String(in.readNBytes(4), StandardCharsets.US_ASCII);
            byte[] data = in.readNBytes(length);
            in.skipNBytes(4); // CRC
            if (!type.equals("iTXt")) continue;
            int key = indexOf(data, 0, 0);
            assertEquals(0, data[key + 1], "compressed iTXt");
            int language = indexOf(data, key + 3, 0), translated = indexOf(data, language + 1, 0);
            out.put(new String(data, 0, key, StandardCharsets.ISO_8859_1),
                    new String(data, translated + 1, data.length - translated - 1, StandardCharsets.UTF_8));
        }
        return out;
    }

    private static int indexOf(byte[] b, int from, int v) {
        for (int i = from; i < b.length; i++) if (b[i] == v) return i;
        throw new AssertionError("malformed iTXt chunk");
    }
}
