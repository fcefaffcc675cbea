package org.ovis4j.spring.ai;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;
import org.springframework.ai.image.ImageGeneration;
import org.springframework.ai.image.ImageMessage;
import org.springframework.ai.image.ImageModel;
import org.springframework.ai.image.ImageOptionsBuilder;
import org.springframework.ai.image.ImagePrompt;
import org.springframework.ai.image.ImageResponse;
import org.springframework.boot.Banner;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A Spring Boot application with ovis4j-spring-ai on its classpath: the auto-configuration found
 * through META-INF/spring/...AutoConfiguration.imports loads the tiny checkpoint from the
 * {@code spring.ai.ovis4j.*} properties, and images come from {@link ImageModel#call}. The tiny
 * model draws noise, so the images are checked by size, count and format, and pixel for pixel
 * against the pipeline called directly with the options the mapping should produce.
 */
class Ovis4jSpringAiTest {
    /** The tiny checkpoint of the goldens, from this module's folder (surefire's working directory). */
    static final String TINY = "../ovis4j-model/src/test/resources/goldens/ovis_image_tiny";
    static final String PROMPT = "a poster that says \"OPEN\"";

    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {}

    private static ConfigurableApplicationContext context;

    static ConfigurableApplicationContext boot(String... properties) {
        return new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE).bannerMode(Banner.Mode.OFF)
                .logStartupInfo(false).properties(properties).run();
    }

    @BeforeAll
    static void start() {
        // The first model of this JVM: the compute pool starts here, with the property's count.
        context = boot("spring.ai.ovis4j.model=" + TINY, "spring.ai.ovis4j.precision=fp32", "spring.ai.ovis4j.threads=1",
                "spring.ai.ovis4j.options.steps=2", "spring.ai.ovis4j.options.width=32", "spring.ai.ovis4j.options.height=32",
                "spring.ai.ovis4j.options.guidance=3", "spring.ai.ovis4j.options.negative-prompt=blurry");
    }

    @AfterAll
    static void stop() {
        context.close();
    }

    static OvisImage pipeline() {
        return context.getBean(OvisImage.class);
    }

    /** What the pipeline draws when called directly, as 8-bit RGB. */
    static byte[] direct(Generation g) {
        return pipeline().generate(g).rgb8();
    }

    static BufferedImage decodePng(byte[] png) throws IOException {
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, Arrays.copyOf(png, 8), "PNG signature");
        return ImageIO.read(new ByteArrayInputStream(png));
    }

    static byte[] rgb8(BufferedImage img) {
        byte[] out = new byte[img.getWidth() * img.getHeight() * 3];
        for (int y = 0, i = 0; y < img.getHeight(); y++)
            for (int x = 0; x < img.getWidth(); x++, i += 3) {
                int p = img.getRGB(x, y);
                out[i] = (byte) (p >> 16);
                out[i + 1] = (byte) (p >> 8);
                out[i + 2] = (byte) p;
            }
        return out;
    }

    @Test
    void bootsFromPropertiesAndGeneratesThroughImageModelCall() throws IOException {
        ImageModel imageModel = context.getBean(ImageModel.class);
        assertTrue(imageModel instanceof Ovis4jImageModel);
        assertEquals(Precision.FP32, pipeline().precision());
        assertEquals(1, Parallel.threads(), "spring.ai.ovis4j.threads sizes the compute pool");

        // n, width and seed from the request; height, steps, guidance and negative prompt from the properties.
        ImageResponse response = imageModel.call(new ImagePrompt(PROMPT, Ovis4jImageOptions.builder().n(2).width(64).seed(7).build()));
        assertEquals(2, response.getResults().size());
        byte[][] pixels = new byte[2][];
        for (int i = 0; i < 2; i++) {
            ImageGeneration result = response.getResults().get(i);
            assertNull(result.getOutput().getUrl(), "b64_json is the default response format");
            BufferedImage img = decodePng(Base64.getDecoder().decode(result.getOutput().getB64Json()));
            assertEquals(64, img.getWidth());
            assertEquals(32, img.getHeight());
            assertEquals(new Ovis4jImageGenerationMetadata(7 + i, 64, 32, 2, 3f), result.getMetadata());
            pixels[i] = rgb8(img);
            Generation expected = Generation.of(PROMPT).negativePrompt("blurry").size(64, 32).steps(2).guidance(3f).seed(7 + i);
            assertArrayEquals(direct(expected), pixels[i], "image " + i + " is the pipeline's for the mapped options");
        }
        assertFalse(Arrays.equals(pixels[0], pixels[1]), "n images are drawn with different seeds");
        // The comparison above can see the negative prompt: without it the pixels differ.
        assertFalse(Arrays.equals(pixels[0], direct(Generation.of(PROMPT).size(64, 32).steps(2).guidance(3f).seed(7))));
    }

    @Test
    void urlResponseFormatIsADataUrlAndSpringAiGenericOptionsWork() throws IOException {
        ImageResponse response = context.getBean(ImageModel.class).call(new ImagePrompt(PROMPT,
                ImageOptionsBuilder.builder().responseFormat("url").width(48).height(16).build()));
        assertEquals(1, response.getResults().size(), "n defaults to 1");
        var image = response.getResult().getOutput();
        assertNull(image.getB64Json());
        String prefix = "data:image/png;base64,";
        assertTrue(image.getUrl().startsWith(prefix), image.getUrl().substring(0, 40));
        BufferedImage img = decodePng(Base64.getDecoder().decode(image.getUrl().substring(prefix.length())));
        assertEquals(48, img.getWidth());
        assertEquals(16, img.getHeight());
        assertArrayEquals(direct(Generation.of(PROMPT).negativePrompt("blurry").size(48, 16).steps(2).guidance(3f).seed(0)), rgb8(img));
    }

    @Test
    void messagesOfNegativeWeightAreTheNegativePrompt() throws IOException {
        Ovis4jImageOptions options = Ovis4jImageOptions.builder().negativePrompt("").build();
        ImageResponse response = context.getBean(ImageModel.class).call(new ImagePrompt(
                List.of(new ImageMessage(PROMPT), new ImageMessage("dark", -1f), new ImageMessage("noisy", -0.5f)), null));
        byte[] got = rgb8(decodePng(Base64.getDecoder().decode(response.getResult().getOutput().getB64Json())));
        assertArrayEquals(direct(Generation.of(PROMPT).negativePrompt("dark, noisy").size(32, 32).steps(2).guidance(3f)), got);
        OvisException twice = assertThrows(OvisException.class, () -> context.getBean(ImageModel.class).call(
                new ImagePrompt(List.of(new ImageMessage(PROMPT), new ImageMessage("dark", -1f)), options)));
        assertTrue(twice.getMessage().contains("negative prompt is given twice"), twice.getMessage());
    }

    @Test
    void requestsThePipelineCannotRunAreOneLineErrors() {
        ImageModel m = context.getBean(ImageModel.class);
        assertError("responseFormat=jpeg is not supported", () -> m.call(new ImagePrompt(PROMPT, ImageOptionsBuilder.builder().responseFormat("jpeg").build())));
        assertError("style=vivid is not supported", () -> m.call(new ImagePrompt(PROMPT, ImageOptionsBuilder.builder().style("vivid").build())));
        assertError("asks for another model", () -> m.call(new ImagePrompt(PROMPT, ImageOptionsBuilder.builder().model("dall-e-3").build())));
        assertError("width 40 is not a multiple of 16", () -> m.call(new ImagePrompt(PROMPT, Ovis4jImageOptions.builder().width(40).build())));
        assertError("steps must be between 1 and 1000", () -> m.call(new ImagePrompt(PROMPT, Ovis4jImageOptions.builder().steps(0).build())));
        assertError("n must be at least 1", () -> m.call(new ImagePrompt(PROMPT, Ovis4jImageOptions.builder().n(0).build())));
        assertError("more than one message", () -> m.call(new ImagePrompt(List.of(new ImageMessage("a"), new ImageMessage("b")), null)));
    }

    static void assertError(String expected, Runnable r) {
        OvisException e = assertThrows(OvisException.class, r::run);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    /** The cause of a failed start that the failure analyzer reports. */
    static OvisException startupError(String... properties) {
        RuntimeException e = assertThrows(RuntimeException.class, () -> boot(properties).close());
        for (Throwable t = e; t != null; t = t.getCause()) if (t instanceof OvisException o) return o;
        throw new AssertionError("no OvisException in " + e, e);
    }

    @Test
    void wrongPropertiesStopTheStartWithTheirName() {
        assertTrue(startupError().getMessage().startsWith("spring.ai.ovis4j.model is not set"));
        assertTrue(startupError("spring.ai.ovis4j.model=AIDC-AI/Ovis-Image-7B").getMessage()
                .contains("in the Hub cache"));
        assertEquals("spring.ai.ovis4j.precision=fp16: unknown precision \"fp16\" (expected fp32, bf16 or int8)",
                startupError("spring.ai.ovis4j.model=" + TINY, "spring.ai.ovis4j.precision=fp16").getMessage());
        assertTrue(startupError("spring.ai.ovis4j.model=" + TINY, "spring.ai.ovis4j.threads=0").getMessage()
                .startsWith("spring.ai.ovis4j.threads=0 is not a number of threads"));
        assertEquals("spring.ai.ovis4j.options: default image options: width 40 is not a multiple of 16", startupError(
                "spring.ai.ovis4j.model=" + TINY, "spring.ai.ovis4j.precision=fp32", "spring.ai.ovis4j.options.width=40").getMessage());
        assertTrue(startupError("spring.ai.ovis4j.model=" + TINY, "spring.ai.ovis4j.precision=fp32", "spring.ai.ovis4j.options.response-format=png")
                .getMessage().startsWith("spring.ai.ovis4j.options: default image options: image option responseFormat=png is not supported"));
        // The pool started with 1 thread in start(): another count is refused, not silently ignored.
        assertTrue(startupError("spring.ai.ovis4j.model=" + TINY, "spring.ai.ovis4j.threads=2").getMessage()
                .startsWith("spring.ai.ovis4j.threads=2 but ovis4j's compute pool already runs 1 threads"));
    }

    @Test
    void anotherImageProviderSwitchesItOff() {
        try (ConfigurableApplicationContext other = boot("spring.ai.model.image=openai")) {
            assertTrue(other.getBeansOfType(ImageModel.class).isEmpty());
            assertTrue(other.getBeansOfType(OvisImage.class).isEmpty(), "no checkpoint is loaded");
        }
    }

    @Test
    void failureAnalyzerReportsTheOneLineMessage() {
        var analysis = new Ovis4jFailureAnalyzer().analyze(new IllegalStateException("bean creation", new OvisException("x: no such folder")));
        assertEquals("ovis4j: x: no such folder", analysis.getDescription());
    }
}
