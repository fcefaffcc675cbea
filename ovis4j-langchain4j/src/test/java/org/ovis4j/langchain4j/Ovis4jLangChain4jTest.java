package org.ovis4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.image.Image;
import dev.langchain4j.model.image.ImageModel;
import dev.langchain4j.model.output.Response;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;

/**
 * The tiny checkpoint through LangChain4j's {@link ImageModel} interface. The tiny model draws
 * noise, so the images are checked by size, count and format, and pixel for pixel against the
 * pipeline called directly with the builder's settings.
 */
class Ovis4jLangChain4jTest {
    /** The tiny checkpoint of the goldens, from this module's folder (surefire's working directory). */
    static final Path TINY = Path.of("../ovis4j-model/src/test/resources/goldens/ovis_image_tiny");
    static final String PROMPT = "a poster that says \"OPEN\"";

    private static Ovis4jImageModel owner;
    private static ImageModel model;

    @BeforeAll
    static void load() {
        owner = Ovis4jImageModel.builder().modelDir(TINY).precision(Precision.FP32)
                .size(64, 32).steps(2).guidance(3f).seed(11).negativePrompt("blurry").build();
        model = owner;
    }

    @AfterAll
    static void close() {
        owner.close();
    }

    static byte[] direct(Generation g) {
        return owner.pipeline().generate(g).rgb8();
    }

    static byte[] decodedPixels(Image image, int width, int height) throws IOException {
        assertEquals("image/png", image.mimeType());
        assertNull(image.url());
        byte[] png = Base64.getDecoder().decode(image.base64Data());
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, Arrays.copyOf(png, 8), "PNG signature");
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(width, img.getWidth());
        assertEquals(height, img.getHeight());
        byte[] out = new byte[width * height * 3];
        for (int y = 0, i = 0; y < height; y++)
            for (int x = 0; x < width; x++, i += 3) {
                int p = img.getRGB(x, y);
                out[i] = (byte) (p >> 16);
                out[i + 1] = (byte) (p >> 8);
                out[i + 2] = (byte) p;
            }
        return out;
    }

    static Generation expected(long seed) {
        return Generation.of(PROMPT).negativePrompt("blurry").size(64, 32).steps(2).guidance(3f).seed(seed);
    }

    @Test
    void generateOneImage() throws IOException {
        Response<Image> r = model.generate(PROMPT);
        assertArrayEquals(direct(expected(11)), decodedPixels(r.content(), 64, 32));
        assertEquals(11L, r.metadata().get("seed"));
    }

    @Test
    void generateNImagesWithConsecutiveSeeds() throws IOException {
        Response<List<Image>> r = model.generate(PROMPT, 3);
        assertEquals(3, r.content().size());
        assertEquals(List.of(11L, 12L, 13L), r.metadata().get("seeds"));
        byte[][] px = new byte[3][];
        for (int i = 0; i < 3; i++) {
            px[i] = decodedPixels(r.content().get(i), 64, 32);
            assertArrayEquals(direct(expected(11 + i)), px[i], "image " + i);
        }
        assertFalse(Arrays.equals(px[0], px[1]));
        assertFalse(Arrays.equals(px[1], px[2]));
        // The comparisons can see the negative prompt: without it the pixels differ.
        assertFalse(Arrays.equals(px[0], direct(Generation.of(PROMPT).size(64, 32).steps(2).guidance(3f).seed(11))));
    }

    @Test
    void aLoadedPipelineIsUsedAndNotClosed() throws IOException {
        try (OvisImage pipeline = OvisImage.load(TINY, Precision.FP32)) {
            Ovis4jImageModel m = Ovis4jImageModel.builder().pipeline(pipeline).size(32, 16).steps(1).build();
            m.close();
            Image image = m.generate(PROMPT).content();   // still open: the model did not own it
            assertArrayEquals(pipeline.generate(Generation.of(PROMPT).size(32, 16).steps(1)).rgb8(), decodedPixels(image, 32, 16));
        }
    }

    @Test
    void invalidSettingsFailBeforeLoading() {
        OvisException e = assertThrows(OvisException.class,
                () -> Ovis4jImageModel.builder().modelDir(Path.of("no-such-model")).width(40).build());
        assertEquals("width 40 is not a multiple of 16", e.getMessage());
        assertTrue(assertThrows(OvisException.class, () -> Ovis4jImageModel.builder().build()).getMessage().contains("exactly one"));
        assertEquals("n must be at least 1, got 0", assertThrows(OvisException.class, () -> model.generate(PROMPT, 0)).getMessage());
    }
}
