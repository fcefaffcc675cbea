package org.ovis4j.eval;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.ovis4j.core.OvisException;

/** Finds and reads the image of a prompt: {@code <id>.png}, {@code .jpg} or {@code .jpeg} in the folder. */
public final class ImageLoader {
    private ImageLoader() {}

    private static final String[] EXTENSIONS = {".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"};

    public static Path find(Path dir, String id) {
        for (String ext : EXTENSIONS) {
            Path p = dir.resolve(id + ext);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    public static BufferedImage read(Path file) {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new OvisException(file + ": cannot read image (" + e.getMessage() + ")");
        }
        if (img == null) throw new OvisException(file + ": cannot read image (not a PNG or JPEG, or damaged)");
        return img;
    }
}
