package org.ovis4j.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * GPT-2's reversible byte-to-character table ({@code bytes_to_unicode}): vocabularies store byte
 * sequences as strings of these stand-in characters, so that every byte has a printable spelling.
 */
final class ByteLevel {
    private ByteLevel() {}

    /** BYTE_CHAR[b] is the stand-in character of byte b. */
    static final char[] BYTE_CHAR = new char[256];
    /** CHAR_BYTE[c] is the byte a stand-in character means, or -1; stand-ins are all below 324. */
    private static final int[] CHAR_BYTE = new int[324];

    static {
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
        int next = 0;
        for (int b = 0; b < 256; b++) BYTE_CHAR[b] = printable[b] ? (char) b : (char) (256 + next++);
        Arrays.fill(CHAR_BYTE, -1);
        for (int b = 0; b < 256; b++) CHAR_BYTE[BYTE_CHAR[b]] = b;
    }

    /** The bytes a byte-level token spells, or null if it contains a character outside the table. */
    static byte[] toBytes(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < out.length; i++) {
            char c = token.charAt(i);
            if (c >= CHAR_BYTE.length || CHAR_BYTE[c] < 0) return null;
            out[i] = (byte) CHAR_BYTE[c];
        }
        return out;
    }

    /**
     * What HF's ByteLevel decoder emits for one token: the spelled bytes, or the token's own UTF-8
     * when it is not a pure byte-level string (e.g. an added token with characters outside the table).
     */
    static byte[] decodeToken(String token) {
        byte[] b = toBytes(token);
        return b != null ? b : token.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * UTF-8 to string with one U+FFFD per maximal invalid subpart (the WHATWG / Rust
     * {@code from_utf8_lossy} rule), so that decoding token sequences that split a character gives the
     * same replacement characters as the reference.
     */
    static String utf8Lossy(byte[] b, int len) {
        StringBuilder sb = new StringBuilder(len);
        int i = 0;
        while (i < len) {
            int c = b[i] & 0xFF;
            if (c < 0x80) { sb.append((char) c); i++; continue; }
            int need, cp, lo = 0x80, hi = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) { need = 1; cp = c & 0x1F; }
            else if (c >= 0xE0 && c <= 0xEF) {
                need = 2; cp = c & 0x0F;
                if (c == 0xE0) lo = 0xA0; else if (c == 0xED) hi = 0x9F;
            } else if (c >= 0xF0 && c <= 0xF4) {
                need = 3; cp = c & 0x07;
                if (c == 0xF0) lo = 0x90; else if (c == 0xF4) hi = 0x8F;
            } else { sb.append('\uFFFD'); i++; continue; }
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                int lower = k == 0 ? lo : 0x80, upper = k == 0 ? hi : 0xBF;
                if (j >= len || (b[j] & 0xFF) < lower || (b[j] & 0xFF) > upper) { ok = false; break; }
                cp = (cp << 6) | (b[j] & 0x3F);
            }
            if (!ok) { sb.append('\uFFFD'); i = j; continue; }
            sb.appendCodePoint(cp);
            i = j;
        }
        return sb.toString();
    }
}
