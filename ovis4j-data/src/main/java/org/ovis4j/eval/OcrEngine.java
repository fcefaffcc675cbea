package org.ovis4j.eval;

import java.awt.image.BufferedImage;
import org.ovis4j.data.render.Lang;

/**
 * Reads the text in an image. The evaluator only needs plain text in reading order, so a second
 * engine (another OCR library, a remote service, a VLM) plugs in by implementing these two calls.
 * An instance is used by one thread at a time; the evaluator makes one per worker.
 */
public interface OcrEngine extends AutoCloseable {
    /** Name and version for the report, e.g. "tesseract 5.5.2". */
    String name();

    /** All text found in the image, lines separated by newlines. */
    String recognize(BufferedImage image, Lang lang);

    @Override
    void close();
}
