package org.ovis4j.eval;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.ovis4j.core.OvisException;

/** Finds and reads the image of a prompt: {@code <id>.png}, {@code .jpg} or {@code .jpeg} in the folder. */
public final class ImageLoader {
    private ImageLoader() {}

    private static final String[] EXTENSIONS = {".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"};
    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    /** An image file that exists but cannot be decoded; {@link #reason()} says why, for the report. */
    public static final class UnreadableImageException extends OvisException {
        private final String reason;

        UnreadableImageException(Path file, String reason) {
            super(file + ": cannot read image (" + reason + ")");
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    public static Path find(Path dir, String id) {
        for (String ext : EXTENSIONS) {
            Path p = dir.resolve(id + ext);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    public static BufferedImage read(Path file) {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(16);
        } catch (IOException e) {
            throw new UnreadableImageException(file, "cannot open: " + e.getMessage());
        }
        if (head.length == 0) throw new UnreadableImageException(file, "empty file");
        String format = format(head);
        if (format == null) {
            throw new UnreadableImageException(file, "not an image format this reader knows (first bytes " + hex(head) + ")");
        }
        if (format.equals("WebP") || format.equals("AVIF") || format.equals("HEIF")) {
            throw new UnreadableImageException(file, format + " is not supported; convert it to PNG");
        }
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new UnreadableImageException(file, "damaged " + format + ": " + e.getMessage());
        }
        if (img == null) throw new UnreadableImageException(file, "damaged " + format + ": no image in it");
        return img;
    }

    /** The format named by the file's first bytes, or null if none known. */
    static String format(byte[] h) {
        if (h.length >= 8 && Arrays.equals(Arrays.copyOf(h, 8), PNG)) return "PNG";
        if (h.length >= 3 && (h[0] & 255) == 0xFF && (h[1] & 255) == 0xD8 && (h[2] & 255) == 0xFF) return "JPEG";
        String ascii = new String(h, java.nio.charset.StandardCharsets.ISO_8859_1);
        if (ascii.startsWith("GIF8")) return "GIF";
        if (ascii.startsWith("RIFF") && ascii.length() >= 12 && ascii.startsWith("WEBP", 8)) return "WebP";
        if (ascii.length() >= 12 && ascii.startsWith("ftyp", 4)) return ascii.startsWith("avif", 8) ? "AVIF" : "HEIF";
        return null;
    }

    private static String hex(byte[] h) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < Math.min(4, h.length); i++) b.append(String.format(java.util.Locale.ROOT, "%02x", h[i] & 255));
        return b.toString();
    }
}
