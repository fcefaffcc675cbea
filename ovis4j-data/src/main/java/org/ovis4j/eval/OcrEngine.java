package org.ovis4j.eval;

import java.awt.image.BufferedImage;
import java.util.List;
import org.ovis4j.data.render.Lang;

/**
 * Reads the text in an image. A second engine (another OCR library, a remote service, a VLM) plugs
 * in by implementing these calls; one without word confidences can return
 * {@link OcrReading#ofText}. An instance is used by one thread at a time; the evaluator makes one
 * per worker.
 */
public interface OcrEngine extends AutoCloseable {
    /** Name and version for the report, e.g. "tesseract 5.5.2". */
    String name();

    /**
     * Every way the engine read the image, each a separate reading. The metrics score each
     * target region against each reading and keep the best (docs/evaluation.md); readings are
     * never joined, so reading an image several ways cannot add up fragments of text.
     */
    List<OcrReading> read(BufferedImage image, Lang lang);

    @Override
    void close();
}
