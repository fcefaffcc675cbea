package org.ovis4j.core.image;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.ovis4j.core.OvisException;

/**
 * Writes 8-bit RGB PNG files with text chunks (generation parameters). Text is stored as iTXt so
 * that non-Latin prompts survive; the file appears only when complete (temp file, then rename).
 */
public final class PngWriter {
    private PngWriter() {}

    /** rgb: H·W·3 bytes, row-major HWC. */
    public static void write(Path file, byte[] rgb, int width, int height, Map<String, String> text) {
        if (rgb.length != width * height * 3) throw new IllegalArgumentException("pixel buffer does not match " + width + "x" + height);
        Path tmp = file.toAbsolutePath().resolveSibling(file.getFileName() + ".partial");
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            try (OutputStream out = Files.newOutputStream(tmp)) {
                out.write(encode(rgb, width, height, text));
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // nothing more to do: the partial name is never read
            }
            throw new OvisException(file + ": cannot write PNG (" + e.getMessage() + ")");
        }
    }

    public static byte[] encode(byte[] rgb, int width, int height, Map<String, String> text) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(ihdr);
        d.writeInt(width);
        d.writeInt(height);
        d.write(new byte[] {8, 2, 0, 0, 0}); // 8-bit, truecolour, deflate, no filter method extras, no interlace
        chunk(png, "IHDR", ihdr.toByteArray());
        if (text != null) {
            for (Map.Entry<String, String> e : text.entrySet()) {
                ByteArrayOutputStream t = new ByteArrayOutputStream();
                t.write(e.getKey().getBytes(StandardCharsets.ISO_8859_1));
                t.write(new byte[] {0, 0, 0, 0, 0}); // separator, uncompressed, method, empty language, empty translated keyword
                t.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                chunk(png, "iTXt", t.toByteArray());
            }
        }
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(raw, new Deflater(6))) {
            byte[] row = new byte[1 + width * 3];
            for (int y = 0; y < height; y++) {
                row[0] = 0; // filter: none
                System.arraycopy(rgb, y * width * 3, row, 1, width * 3);
                z.write(row);
            }
        }
        chunk(png, "IDAT", raw.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        DataOutputStream d = new DataOutputStream(out);
        d.writeInt(data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        d.write(t);
        d.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        d.writeInt((int) crc.getValue());
    }
}
