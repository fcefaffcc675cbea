package org.ovis4j.cli;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.ovis4j.core.OvisException;

/**
 * UTF-8 decoding that refuses invalid input instead of replacing it with U+FFFD. A prompt is what the
 * model draws: a replaced byte silently becomes a different prompt (and a different image), so text
 * from the user is decoded strictly and an error says where the first bad byte is.
 */
final class StrictUtf8 {
    private StrictUtf8() {}

    /** The offset of the first byte that does not start a valid UTF-8 sequence, or -1 when all of {@code bytes} is valid. */
    static int firstInvalidByte(byte[] bytes) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        // UTF-8 never decodes to more chars than it has bytes, so the output cannot overflow.
        CoderResult r = d.decode(in, CharBuffer.allocate(bytes.length), true);
        return r.isError() ? in.position() : -1;
    }

    /** {@code bytes} as text; invalid UTF-8 is an error such as "WHAT is not valid UTF-8 (byte 7: 0xff)". */
    static String decode(byte[] bytes, String what) {
        int bad = firstInvalidByte(bytes);
        if (bad >= 0) throw invalid(what, bad, bytes[bad]);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static OvisException invalid(String what, int offset, byte at) {
        return new OvisException(String.format("%s is not valid UTF-8 (byte %d: 0x%02x)", what, offset, at & 0xFF));
    }
}
