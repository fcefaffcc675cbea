package org.ovis4j.core.tar;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.core.OvisException;

/**
 * Reads a tar archive as a stream, one entry at a time: only the current entry's contents are ever
 * in memory, and contents that are not asked for are skipped, not read into a buffer. It reads what
 * {@link TarWriter} writes and what WebDataset shards made by other tools contain: ustar (name prefix
 * field), POSIX pax extended headers ({@code path}, {@code size}) and GNU long names. Only regular
 * files are returned; directories and links are passed over. Header checksums are verified and an
 * archive must end with its end-of-archive block, so a truncated or damaged shard is an error, not a
 * shorter shard.
 */
public final class TarReader implements AutoCloseable {
    private static final int BLOCK = 512;

    /** A regular file of the archive; {@code offset} is the byte position of its (first) header. */
    public record Entry(String name, long size, long offset) {}

    private final InputStream in;
    private final String origin;
    private final byte[] header = new byte[BLOCK];
    private long position;
    /** Unread content bytes of the current entry, then its padding to the block size. */
    private long remaining, padding;
    private Entry current;
    private boolean ended;

    /** @param origin names the archive in error messages (usually its path) */
    public TarReader(InputStream in, String origin) {
        this.in = in instanceof BufferedInputStream ? in : new BufferedInputStream(in, 1 << 16);
        this.origin = origin;
    }

    public static TarReader open(Path file) {
        try {
            return new TarReader(Files.newInputStream(file), file.toString());
        } catch (NoSuchFileException e) {
            throw new OvisException(file + ": file not found");
        } catch (IOException e) {
            throw new OvisException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** Every regular file of a small archive, name to contents, in archive order (for tests and tools). */
    public static Map<String, byte[]> readAll(Path file) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (TarReader r = open(file)) {
            for (Entry e; (e = r.next()) != null; ) out.put(e.name(), r.readData());
        }
        return out;
    }

    /** The next regular file, or null at the end of the archive; skips what is left of the current one. */
    public Entry next() {
        try {
            skipCurrent();
            String longName = null;
            long paxSize = -1;
            while (true) {
                long at = position;
                if (!readHeader()) {
                    ended = true;
                    current = null;
                    return null;
                }
                byte type = header[156];
                long size = parseNumber(124, 12, at, "size");
                if (type == 'x' || type == 'L') {
                    byte[] data = readBytes(size, at);
                    skipPadding(size);
                    if (type == 'L') {
                        longName = cString(data, 0, data.length);
                    } else {
                        Map<String, String> pax = parsePax(data, at);
                        if (pax.containsKey("path")) longName = pax.get("path");
                        if (pax.containsKey("size")) paxSize = parsePaxSize(pax.get("size"), at);
                    }
                    continue;
                }
                if (paxSize >= 0) size = paxSize;
                remaining = size;
                padding = (BLOCK - size % BLOCK) % BLOCK;
                if (type == 'g' || !(type == '0' || type == 0 || type == '7')) {
                    // global pax headers, directories, links, devices: nothing a reader of files wants
                    skipCurrent();
                    longName = null;
                    paxSize = -1;
                    continue;
                }
                String name = longName != null ? longName : headerName();
                current = new Entry(name, size, at);
                return current;
            }
        } catch (EOFException e) {
            throw new OvisException(origin + ": truncated at byte " + position
                    + (current != null ? " in entry " + current.name() : "") + " (no end-of-archive block)");
        } catch (IOException e) {
            throw new OvisException(origin + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** The contents of the entry last returned by {@link #next}, read whole (once). */
    public byte[] readData() {
        if (current == null) throw new IllegalStateException("no current entry");
        if (remaining != current.size()) throw new IllegalStateException(current.name() + ": contents already read");
        try {
            byte[] data = readBytes(remaining, current.offset());
            remaining = 0;
            return data;
        } catch (EOFException e) {
            throw new OvisException(origin + ": truncated in entry " + current.name() + " (at byte " + position + ")");
        } catch (IOException e) {
            throw new OvisException(origin + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** Bytes consumed from the stream so far. */
    public long position() {
        return position;
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException ignored) {
            // read-only stream: nothing is lost
        }
    }

    private void skipCurrent() throws IOException {
        long n = remaining + padding;
        if (n > 0) {
            in.skipNBytes(n);
            position += n;
        }
        remaining = 0;
        padding = 0;
        current = null;
    }

    private void skipPadding(long size) throws IOException {
        long pad = (BLOCK - size % BLOCK) % BLOCK;
        in.skipNBytes(pad);
        position += pad;
    }

    /** Reads the next header block; false at the end-of-archive block (a zero block). */
    private boolean readHeader() throws IOException {
        if (ended) return false;
        int got = in.readNBytes(header, 0, BLOCK);
        if (got < BLOCK) throw new EOFException();
        long at = position;
        position += BLOCK;
        boolean zero = true;
        for (byte b : header) if (b != 0) { zero = false; break; }
        if (zero) return false; // the first of the two zero blocks; what follows is not read
        long stored = parseNumber(148, 8, at, "checksum");
        long unsigned = 0, signed = 0;
        for (int i = 0; i < BLOCK; i++) {
            int b = (i >= 148 && i < 156) ? ' ' : header[i];
            unsigned += b & 0xFF;
            signed += b;
        }
        // Some old writers summed signed bytes; both sums are accepted, as GNU tar does.
        if (stored != unsigned && stored != signed)
            throw new OvisException(origin + ": damaged tar header at byte " + at + " (checksum " + stored + ", computed " + unsigned + ")");
        return true;
    }

    private byte[] readBytes(long size, long at) throws IOException {
        if (size > Integer.MAX_VALUE - 16)
            throw new OvisException(origin + ": entry at byte " + at + " is " + size + " bytes, too large to read whole");
        byte[] data = in.readNBytes((int) size);
        position += data.length;
        if (data.length < size) throw new EOFException();
        return data;
    }

    private String headerName() {
        String name = cString(header, 0, 100);
        boolean ustar = header[257] == 'u' && header[258] == 's' && header[259] == 't' && header[260] == 'a' && header[261] == 'r';
        if (ustar) {
            String prefix = cString(header, 345, 155);
            if (!prefix.isEmpty()) name = prefix + "/" + name;
        }
        return name;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) end++;
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    /** An octal field (NUL or space terminated), or GNU base-256 when the top bit of its first byte is set. */
    private long parseNumber(int off, int len, long at, String field) {
        if ((header[off] & 0x80) != 0) {
            long v = header[off] & 0x7F;
            for (int i = off + 1; i < off + len; i++) {
                if ((v >>> 55) != 0) throw new OvisException(origin + ": tar " + field + " too large at byte " + at);
                v = (v << 8) | (header[i] & 0xFF);
            }
            return v;
        }
        long v = 0;
        int i = off, end = off + len;
        while (i < end && header[i] == ' ') i++;
        boolean any = false;
        for (; i < end && header[i] != 0 && header[i] != ' '; i++) {
            int d = header[i] - '0';
            if (d < 0 || d > 7) throw new OvisException(origin + ": not a tar archive (bad " + field + " field at byte " + at + ")");
            v = (v << 3) | d;
            any = true;
        }
        if (!any && !field.equals("size")) throw new OvisException(origin + ": not a tar archive (empty " + field + " field at byte " + at + ")");
        return v;
    }

    /** Records "LEN key=value\n", LEN counting the whole record in bytes. */
    private Map<String, String> parsePax(byte[] data, long at) {
        Map<String, String> out = new LinkedHashMap<>();
        int p = 0;
        while (p < data.length) {
            int sp = p;
            while (sp < data.length && data[sp] != ' ') sp++;
            int len;
            try {
                len = Integer.parseInt(new String(data, p, sp - p, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw new OvisException(origin + ": damaged pax header at byte " + at);
            }
            if (len <= sp - p + 1 || p + len > data.length || data[p + len - 1] != '\n')
                throw new OvisException(origin + ": damaged pax header at byte " + at);
            String record = new String(data, sp + 1, p + len - 1 - (sp + 1), StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            if (eq > 0) out.put(record.substring(0, eq), record.substring(eq + 1));
            p += len;
        }
        return out;
    }

    private long parsePaxSize(String v, long at) {
        try {
            long s = Long.parseLong(v);
            if (s >= 0) return s;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new OvisException(origin + ": bad pax size \"" + v + "\" at byte " + at);
    }
}
