package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;

/** Reading the arguments from /proc/self/cmdline's bytes, on made-up command lines. */
class ProcessArgumentsTest {
    static final String MAIN = "org.ovis4j.cli.Ovis4j";

    /** NUL-terminated entries, as Linux writes them; a byte[] entry is taken as is. */
    static byte[] cmdline(Object... entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Object e : entries) {
            out.writeBytes(e instanceof byte[] b ? b : e.toString().getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    @Test
    void theArgumentsAfterTheMainClassAreDecodedAsUtf8() {
        // What the JVM makes of "世界" in the POSIX locale: one U+FFFD per byte.
        String[] jvm = {"tokenize", "\uFFFD".repeat(6), ""};
        byte[] raw = cmdline("java", "-Xmx2g", "-cp", "a.jar", MAIN, "tokenize", "世界", "");
        assertArrayEquals(new String[] {"tokenize", "世界", ""}, ProcessArguments.of(jvm, raw, MAIN));
        assertArrayEquals(new String[] {"世界"}, ProcessArguments.of(new String[] {"?"}, cmdline("java", "-jar", "x.jar", "世界"), MAIN));
        byte[] terminated = cmdline("java", MAIN, "世界");
        byte[] unterminated = java.util.Arrays.copyOf(terminated, terminated.length - 1);
        assertArrayEquals(new String[] {"世界"}, ProcessArguments.of(new String[] {"?"}, unterminated, MAIN));
        // Misaligned (an entry missing): the entry before the arguments is not the main class, so the JVM's are kept.
        assertSame(jvm, ProcessArguments.of(jvm, java.util.Arrays.copyOf(raw, raw.length - 1), MAIN));
    }

    @Test
    void aCommandLineThatIsNotThisProgramsLeavesTheJvmsArguments() {
        String[] jvm = {"tokenize", "x"};
        assertSame(jvm, ProcessArguments.of(jvm, cmdline("embedder", "--flag", "tokenize", "x"), MAIN));
        assertSame(jvm, ProcessArguments.of(jvm, cmdline("x"), MAIN));
        assertSame(jvm, ProcessArguments.of(jvm, new byte[0], MAIN));
        String[] none = {};
        assertSame(none, ProcessArguments.of(none, cmdline("java", MAIN), MAIN));
    }

    @Test
    void invalidBytesAreNamedByTheirOptionAndOffset() {
        byte[] bad = {'o', 'k', (byte) 0xff};
        String[] jvm = {"generate", "--prompt", "ok\uFFFD"};
        OvisException e = assertThrows(OvisException.class,
                () -> ProcessArguments.of(jvm, cmdline("java", MAIN, "generate", "--prompt", bad), MAIN));
        assertEquals("--prompt is not valid UTF-8 (byte 2: 0xff)", e.getMessage());
        byte[] joined = {'-', '-', 'p', '=', 'a', (byte) 0x80};
        e = assertThrows(OvisException.class, () -> ProcessArguments.of(new String[] {"x"}, cmdline("java", MAIN, joined), MAIN));
        assertEquals("--p is not valid UTF-8 (byte 1: 0x80)", e.getMessage());
        e = assertThrows(OvisException.class, () -> ProcessArguments.of(new String[] {"tokenize", "x"}, cmdline("java", MAIN, "tokenize", bad), MAIN));
        assertEquals("argument 2 is not valid UTF-8 (byte 2: 0xff)", e.getMessage());
    }

    @Test
    void strictDecodingFindsTheFirstBadByte() {
        assertEquals(-1, StrictUtf8.firstInvalidByte("a世界\uD83D\uDE00".getBytes(StandardCharsets.UTF_8)));
        assertEquals(1, StrictUtf8.firstInvalidByte(new byte[] {'a', (byte) 0xc0, (byte) 0x80})); // overlong NUL
        assertEquals(0, StrictUtf8.firstInvalidByte(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80})); // a surrogate
        assertEquals(2, StrictUtf8.firstInvalidByte(new byte[] {'a', 'b', (byte) 0xf0, (byte) 0x9f})); // cut short
        assertEquals(0, StrictUtf8.firstInvalidByte(new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80})); // past U+10FFFF
    }
}
