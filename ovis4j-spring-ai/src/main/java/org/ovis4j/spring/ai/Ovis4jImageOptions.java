package org.ovis4j.spring.ai;

import java.util.Objects;
import org.ovis4j.core.OvisException;
import org.springframework.ai.image.ImageOptions;

/**
 * Spring AI's image options plus ovis4j's own (steps, guidance, seed, negative prompt). Every field
 * may be unset (null); {@link #merge} lays a request's options over the defaults of
 * {@code spring.ai.ovis4j.options.*}, and what neither sets takes the pipeline's defaults (1024x1024,
 * 50 steps, guidance 5, seed 0, no negative prompt, one image, {@code b64_json}).
 *
 * <p>Mutable JavaBean, as Spring binds configuration properties onto it; build one per request with
 * {@link #builder()}.
 */
public class Ovis4jImageOptions implements ImageOptions {
    /** {@link org.springframework.ai.image.Image#getB64Json()} holds the PNG, base64-encoded (the default). */
    public static final String B64_JSON = "b64_json";
    /**
     * {@link org.springframework.ai.image.Image#getUrl()} holds the PNG as a {@code data:image/png;base64,}
     * URL: the image travels inside the response, so nothing is written to disk or has to be cleaned
     * up, and the URL works on any machine the response is sent to (a browser shows it as it is),
     * which a {@code file:} URI of this machine would not.
     */
    public static final String URL = "url";

    /** Number of images (default 1); image i is drawn with seed seed + i. */
    private Integer n;
    /** Width in pixels, a multiple of 16 (default 1024). */
    private Integer width;
    /** Height in pixels, a multiple of 16 (default 1024). */
    private Integer height;
    /** b64_json (default) or url (a data:image/png;base64 URL). */
    private String responseFormat;
    /** Denoising steps (default 50). */
    private Integer steps;
    /** Classifier-free guidance scale (default 5); at most 1 skips the unconditional branch. */
    private Float guidance;
    /** Seed of the initial noise (default 0). */
    private Long seed;
    /** What the image should not show (default none). */
    private String negativePrompt;

    public Ovis4jImageOptions() {}

    public static Builder builder() {
        return new Builder();
    }

    /** The options of {@code base} overridden by every field that {@code override} sets (either may be null). */
    public static Ovis4jImageOptions merge(Ovis4jImageOptions base, ImageOptions override) {
        Ovis4jImageOptions o = new Ovis4jImageOptions();
        if (base != null) o.copyFrom(base);
        if (override == null) return o;
        if (override.getStyle() != null)
            throw new OvisException("image option style=" + override.getStyle()
                    + " is not supported: Ovis-Image has no style presets (describe the style in the prompt)");
        o.n = or(override.getN(), o.n);
        o.width = or(override.getWidth(), o.width);
        o.height = or(override.getHeight(), o.height);
        o.responseFormat = or(override.getResponseFormat(), o.responseFormat);
        if (override instanceof Ovis4jImageOptions x) {
            o.steps = or(x.steps, o.steps);
            o.guidance = or(x.guidance, o.guidance);
            o.seed = or(x.seed, o.seed);
            o.negativePrompt = or(x.negativePrompt, o.negativePrompt);
        }
        return o;
    }

    private void copyFrom(Ovis4jImageOptions b) {
        n = b.n;
        width = b.width;
        height = b.height;
        responseFormat = b.responseFormat;
        steps = b.steps;
        guidance = b.guidance;
        seed = b.seed;
        negativePrompt = b.negativePrompt;
    }

    private static <T> T or(T preferred, T fallback) {
        return preferred != null ? preferred : fallback;
    }

    /** Number of images; image i is drawn with seed {@code seed + i}. */
    @Override public Integer getN() { return n; }
    /** Always null: the model is the one this ImageModel loaded (see {@link Ovis4jImageModel#modelName()}). */
    @Override public String getModel() { return null; }
    @Override public Integer getWidth() { return width; }
    @Override public Integer getHeight() { return height; }
    /** {@value #B64_JSON} (default) or {@value #URL}. */
    @Override public String getResponseFormat() { return responseFormat; }
    /** Always null: Ovis-Image has no style presets. */
    @Override public String getStyle() { return null; }
    /** Denoising steps. */
    public Integer getSteps() { return steps; }
    /** Classifier-free guidance scale; at most 1 skips the unconditional branch. */
    public Float getGuidance() { return guidance; }
    /** Seed of the initial noise (ovis4j's own generator: the same image on every machine). */
    public Long getSeed() { return seed; }
    public String getNegativePrompt() { return negativePrompt; }

    public void setN(Integer n) { this.n = n; }
    public void setWidth(Integer width) { this.width = width; }
    public void setHeight(Integer height) { this.height = height; }
    public void setResponseFormat(String responseFormat) { this.responseFormat = responseFormat; }
    public void setSteps(Integer steps) { this.steps = steps; }
    public void setGuidance(Float guidance) { this.guidance = guidance; }
    public void setSeed(Long seed) { this.seed = seed; }
    public void setNegativePrompt(String negativePrompt) { this.negativePrompt = negativePrompt; }

    @Override
    public boolean equals(Object o) {
        return o instanceof Ovis4jImageOptions x && Objects.equals(n, x.n) && Objects.equals(width, x.width)
                && Objects.equals(height, x.height) && Objects.equals(responseFormat, x.responseFormat)
                && Objects.equals(steps, x.steps) && Objects.equals(guidance, x.guidance) && Objects.equals(seed, x.seed)
                && Objects.equals(negativePrompt, x.negativePrompt);
    }

    @Override
    public int hashCode() {
        return Objects.hash(n, width, height, responseFormat, steps, guidance, seed, negativePrompt);
    }

    @Override
    public String toString() {
        return "Ovis4jImageOptions[n=" + n + ", width=" + width + ", height=" + height + ", responseFormat=" + responseFormat
                + ", steps=" + steps + ", guidance=" + guidance + ", seed=" + seed + ", negativePrompt=" + negativePrompt + "]";
    }

    /** Builds {@link Ovis4jImageOptions}; unset fields stay null. */
    public static final class Builder {
        private final Ovis4jImageOptions o = new Ovis4jImageOptions();

        private Builder() {}

        public Builder n(int n) { o.n = n; return this; }
        public Builder width(int width) { o.width = width; return this; }
        public Builder height(int height) { o.height = height; return this; }
        /** {@value Ovis4jImageOptions#B64_JSON} or {@value Ovis4jImageOptions#URL}. */
        public Builder responseFormat(String format) { o.responseFormat = format; return this; }
        public Builder steps(int steps) { o.steps = steps; return this; }
        public Builder guidance(float guidance) { o.guidance = guidance; return this; }
        public Builder seed(long seed) { o.seed = seed; return this; }
        public Builder negativePrompt(String negativePrompt) { o.negativePrompt = negativePrompt; return this; }

        public Ovis4jImageOptions build() {
            Ovis4jImageOptions copy = new Ovis4jImageOptions();
            copy.copyFrom(o);
            return copy;
        }
    }
}
