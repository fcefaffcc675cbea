package org.ovis4j.langchain4j;

import dev.langchain4j.data.image.Image;
import dev.langchain4j.model.image.ImageModel;
import dev.langchain4j.model.output.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.image.PngWriter;
import org.ovis4j.pipeline.GeneratedImage;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;

/**
 * LangChain4j's {@link ImageModel} over an {@link OvisImage}. Every image is a PNG, base64-encoded
 * in {@link Image#base64Data()} with mime type {@code image/png} (the model runs in this process,
 * so there is no server to hold a URL). {@code generate(prompt, n)} draws with seeds {@code seed},
 * {@code seed + 1}, ...; each response's metadata names them ({@code "seed"} for one image,
 * {@code "seeds"} for several). Width, height, steps, guidance, seed and negative prompt are set
 * once on the {@link Builder}; unset, they are the pipeline's defaults (1024x1024, 50 steps,
 * guidance 5, seed 0, no negative prompt).
 *
 * <p>A pipeline draws one image at a time: concurrent calls wait for each other. A model built
 * from a folder ({@link Builder#modelDir}) owns its checkpoint and releases it on {@link #close};
 * one given a loaded {@link OvisImage} ({@link Builder#pipeline}) leaves closing it to the caller.
 */
public final class Ovis4jImageModel implements ImageModel, AutoCloseable {
    private final OvisImage pipeline;
    private final boolean owned;
    private final Integer width, height, steps;
    private final Float guidance;
    private final long seed;
    private final String negativePrompt;
    private final ReentrantLock lock = new ReentrantLock();

    private Ovis4jImageModel(Builder b) {
        if ((b.pipeline == null) == (b.modelDir == null))
            throw new OvisException("Ovis4jImageModel needs either a loaded pipeline or a model folder (exactly one)");
        width = b.width;
        height = b.height;
        steps = b.steps;
        guidance = b.guidance;
        seed = b.seed;
        negativePrompt = b.negativePrompt;
        // The settings are checked before a checkpoint is loaded (loading a 7B one takes minutes).
        generation("", 0).validate();
        owned = b.pipeline == null;
        pipeline = owned ? OvisImage.load(b.modelDir, b.precision) : b.pipeline;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The pipeline that draws the images. */
    public OvisImage pipeline() {
        return pipeline;
    }

    @Override
    public Response<Image> generate(String prompt) {
        Image image = draw(List.of(generation(prompt, seed))).getFirst();
        return new Response<>(image, null, null, Map.of("seed", seed));
    }

    @Override
    public Response<List<Image>> generate(String prompt, int n) {
        if (n < 1) throw new OvisException("n must be at least 1, got " + n);
        List<Generation> gs = new ArrayList<>(n);
        List<Long> seeds = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            gs.add(generation(prompt, seed + i));
            seeds.add(seed + i);
        }
        return new Response<>(draw(gs), null, null, Map.of("seeds", List.copyOf(seeds)));
    }

    private Generation generation(String prompt, long seed) {
        Generation g = Generation.of(prompt).seed(seed);
        if (negativePrompt != null) g.negativePrompt(negativePrompt);
        if (width != null || height != null) g.size(width != null ? width : g.width(), height != null ? height : g.height());
        if (steps != null) g.steps(steps);
        if (guidance != null) g.guidance(guidance);
        return g;
    }

    private List<Image> draw(List<Generation> gs) {
        List<Image> out = new ArrayList<>(gs.size());
        lock.lock();
        try {
            for (Generation g : gs) {
                String b64 = Base64.getEncoder().encodeToString(png(pipeline.generate(g)));
                out.add(Image.builder().base64Data(b64).mimeType("image/png").build());
            }
        } finally {
            lock.unlock();
        }
        return out;
    }

    /** The PNG file's bytes, with the parameters as text chunks, as {@code ovis4j generate} writes it. */
    static byte[] png(GeneratedImage image) {
        try {
            return PngWriter.encode(image.rgb8(), image.width(), image.height(), image.parameters());
        } catch (IOException e) {
            throw new UncheckedIOException("encoding a PNG in memory", e);   // a ByteArrayOutputStream does not fail
        }
    }

    /** Releases the checkpoint if this model loaded it. */
    @Override
    public void close() {
        if (owned) pipeline.close();
    }

    /** Settings of an {@link Ovis4jImageModel}; give either {@link #pipeline} or {@link #modelDir}. */
    public static final class Builder {
        private OvisImage pipeline;
        private Path modelDir;
        private Precision precision = Precision.BF16;
        private Integer width, height, steps;
        private Float guidance;
        private long seed;
        private String negativePrompt;

        private Builder() {}

        /** A loaded pipeline, which the model does not close. */
        public Builder pipeline(OvisImage pipeline) { this.pipeline = Objects.requireNonNull(pipeline); return this; }
        /** A checkpoint folder to load (either published layout); the model closes it. */
        public Builder modelDir(Path dir) { this.modelDir = Objects.requireNonNull(dir); return this; }
        /** Precision of a checkpoint loaded from {@link #modelDir} (default BF16). */
        public Builder precision(Precision precision) { this.precision = Objects.requireNonNull(precision); return this; }
        public Builder width(int width) { this.width = width; return this; }
        public Builder height(int height) { this.height = height; return this; }
        public Builder size(int width, int height) { this.width = width; this.height = height; return this; }
        public Builder steps(int steps) { this.steps = steps; return this; }
        public Builder guidance(float guidance) { this.guidance = guidance; return this; }
        /** Seed of the first image (default 0); ovis4j's own generator gives the same image on every machine. */
        public Builder seed(long seed) { this.seed = seed; return this; }
        public Builder negativePrompt(String negativePrompt) { this.negativePrompt = Objects.requireNonNull(negativePrompt); return this; }

        /** Checks the settings, then loads the checkpoint if a folder was given. */
        public Ovis4jImageModel build() {
            return new Ovis4jImageModel(this);
        }
    }
}
