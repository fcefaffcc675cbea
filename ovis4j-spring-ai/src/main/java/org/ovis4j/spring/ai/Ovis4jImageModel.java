package org.ovis4j.spring.ai;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.image.PngWriter;
import org.ovis4j.pipeline.GeneratedImage;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.pipeline.OvisImage;
import org.springframework.ai.image.Image;
import org.springframework.ai.image.ImageGeneration;
import org.springframework.ai.image.ImageMessage;
import org.springframework.ai.image.ImageModel;
import org.springframework.ai.image.ImageOptions;
import org.springframework.ai.image.ImagePrompt;
import org.springframework.ai.image.ImageResponse;
import org.springframework.ai.image.ImageResponseMetadata;

/**
 * Spring AI's {@link ImageModel} over a loaded {@link OvisImage}: each call draws {@code n} PNG images
 * (seeds {@code seed}, {@code seed + 1}, ...) and returns them base64-encoded, in
 * {@link Image#getB64Json()} or as a {@code data:} URL in {@link Image#getUrl()} (see
 * {@link Ovis4jImageOptions#URL} for why not a file).
 *
 * <p>The prompt is the text of the prompt's one message of non-negative (or no) weight; messages of
 * negative weight, as Spring AI's Stability AI model reads them, are the negative prompt (their texts
 * joined by ", "; the weights' magnitudes are not used, since the pipeline has no prompt weighting).
 * The negative prompt may instead be given as the request's option, not both; either replaces the
 * default of {@code spring.ai.ovis4j.options.negative-prompt}.
 *
 * <p>A pipeline draws one image at a time: concurrent calls wait for each other. The model is not
 * closed by this class; the Spring context that made it closes it.
 */
public class Ovis4jImageModel implements ImageModel {
    private final OvisImage pipeline;
    private final Ovis4jImageOptions defaults;
    private final String modelName;
    private final ReentrantLock lock = new ReentrantLock();

    /**
     * @param pipeline  the loaded model
     * @param defaults  options used where a request sets none (may be null)
     * @param modelName what a request's {@link ImageOptions#getModel()} may name: null or this
     */
    public Ovis4jImageModel(OvisImage pipeline, Ovis4jImageOptions defaults, String modelName) {
        this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
        this.defaults = Ovis4jImageOptions.merge(defaults, null);
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        // Defaults the pipeline cannot run fail here, at start-up, rather than in every request.
        try {
            responseFormat(this.defaults);
            count(this.defaults);
            generation("", null, this.defaults, 0).validate();
        } catch (OvisException e) {
            throw new OvisException("default image options: " + e.getMessage());
        }
    }

    /** The loaded pipeline. */
    public OvisImage pipeline() { return pipeline; }

    /** The name of the model requests may give as their {@code model} option. */
    public String modelName() { return modelName; }

    /** A copy of the default options. */
    public Ovis4jImageOptions defaultOptions() { return Ovis4jImageOptions.merge(defaults, null); }

    @Override
    public ImageResponse call(ImagePrompt request) {
        ImageOptions asked = request.getOptions();
        if (asked != null && asked.getModel() != null && !asked.getModel().equals(modelName))
            throw new OvisException("image option model=" + asked.getModel() + " asks for another model than the loaded " + modelName);
        Ovis4jImageOptions o = Ovis4jImageOptions.merge(defaults, asked);
        String format = responseFormat(o);
        int n = count(o);
        long seed = o.getSeed() == null ? 0 : o.getSeed();

        String prompt = null;
        List<String> negatives = new ArrayList<>();
        for (ImageMessage m : request.getInstructions()) {
            if (m.getWeight() != null && m.getWeight() < 0) negatives.add(m.getText());
            else if (prompt == null) prompt = m.getText();
            else throw new OvisException("the image prompt has more than one message of non-negative weight;"
                        + " Ovis-Image takes one prompt (negative weights give the negative prompt)");
        }
        if (prompt == null) throw new OvisException("the image prompt has no message of non-negative weight");
        // Messages of negative weight override the default negative prompt, but not the request's own option.
        if (!negatives.isEmpty() && asked instanceof Ovis4jImageOptions x && x.getNegativePrompt() != null)
            throw new OvisException("the negative prompt is given twice: as messages of negative weight and as the option negativePrompt");
        String negative = !negatives.isEmpty() ? String.join(", ", negatives) : o.getNegativePrompt();

        // Every request is checked before the first image is drawn, so an invalid one fails at once.
        List<Generation> generations = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Generation g = generation(prompt, negative, o, seed + i);
            g.validate();
            generations.add(g);
        }
        List<ImageGeneration> results = new ArrayList<>(n);
        lock.lock();
        try {
            for (Generation g : generations) {
                String b64 = Base64.getEncoder().encodeToString(png(pipeline.generate(g)));
                Image image = format.equals(Ovis4jImageOptions.URL) ? new Image("data:image/png;base64," + b64, null) : new Image(null, b64);
                results.add(new ImageGeneration(image,
                        new Ovis4jImageGenerationMetadata(g.seed(), g.width(), g.height(), g.steps(), g.guidance())));
            }
        } finally {
            lock.unlock();
        }
        return new ImageResponse(results, new ImageResponseMetadata());
    }

    /** The pipeline's request for one image; what the options leave unset keeps the pipeline's default. */
    private static Generation generation(String prompt, String negative, Ovis4jImageOptions o, long seed) {
        Generation g = Generation.of(prompt).seed(seed);
        if (negative != null) g.negativePrompt(negative);
        if (o.getWidth() != null || o.getHeight() != null)
            g.size(o.getWidth() != null ? o.getWidth() : g.width(), o.getHeight() != null ? o.getHeight() : g.height());
        if (o.getSteps() != null) g.steps(o.getSteps());
        if (o.getGuidance() != null) g.guidance(o.getGuidance());
        return g;
    }

    private static String responseFormat(Ovis4jImageOptions o) {
        String format = o.getResponseFormat() == null ? Ovis4jImageOptions.B64_JSON : o.getResponseFormat();
        if (!format.equals(Ovis4jImageOptions.B64_JSON) && !format.equals(Ovis4jImageOptions.URL))
            throw new OvisException("image option responseFormat=" + format + " is not supported (expected "
                    + Ovis4jImageOptions.B64_JSON + " or " + Ovis4jImageOptions.URL + ")");
        return format;
    }

    private static int count(Ovis4jImageOptions o) {
        int n = o.getN() == null ? 1 : o.getN();
        if (n < 1) throw new OvisException("image option n must be at least 1, got " + n);
        return n;
    }

    /** The PNG file's bytes, with the parameters as text chunks, as {@code ovis4j generate} writes it. */
    static byte[] png(GeneratedImage image) {
        try {
            return PngWriter.encode(image.rgb8(), image.width(), image.height(), image.parameters());
        } catch (IOException e) {
            throw new UncheckedIOException("encoding a PNG in memory", e);   // a ByteArrayOutputStream does not fail
        }
    }
}
