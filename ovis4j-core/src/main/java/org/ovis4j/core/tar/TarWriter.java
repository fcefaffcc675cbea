package org.ovis4j.core.tar;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes POSIX ustar archives, the container WebDataset reads. Every header field that could vary
 * between runs (time, owner, mode) is fixed, so the same entries give a byte-identical archive.
 */
public final class TarWriter implements AutoCloseable {
    private final OutputStream out;
    private long written;

    public TarWriter(OutputStream out) {
        this.out = out;
    }

    public void add(String name, byte[] data) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        if (nameBytes.length > 100) throw new IllegalArgumentException("tar entry name longer than 100 bytes: " + name);
        byte[] h = new byte[512];
        System.arraycopy(nameBytes, 0, h, 0, nameBytes.length);
        octal(h, 100, 8, 0644);
        octal(h, 108, 8, 0);
        octal(h, 116, 8, 0);
        octal(h, 124, 12, data.length);
        octal(h, 136, 12, 0); // mtime: fixed so archives are reproducible
        for (int i = 148; i < 156; i++) h[i] = ' ';
        h[156] = '0';
        byte[] magic = "ustar\u000000".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(magic, 0, h, 257, magic.length);
        int sum = 0;
        for (byte b : h) sum += b & 0xFF;
        byte[] chk = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(chk, 0, h, 148, 6);
        h[154] = 0;
        h[155] = ' ';
        out.write(h);
        out.write(data);
        int pad = (int) ((512 - data.length % 512) % 512);
        out.write(new byte[pad]);
        written += 512 + data.length + pad;
    }

    private static void octal(byte[] h, int off, int len, long value) {
        String s = Long.toOctalString(value);
        if (s.length() > len - 1) throw new IllegalArgumentException("value too large for tar header: " + value);
        s = "0".repeat(len - 1 - s.length()) + s;
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
        h[off + len - 1] = 0;
    }

    public long bytesWritten() {
        return written;
    }

    /** Two zero blocks end the archive. */
    @Override
    public void close() throws IOException {
        out.write(new byte[1024]);
        out.close();
    }
}
