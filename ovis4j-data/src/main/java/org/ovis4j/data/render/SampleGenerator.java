package org.ovis4j.data.render;

import java.util.List;

/**
 * Turns (seed, index) into a finished sample. Each sample draws from its own random stream, so
 * sample i is the same whether it is made alone, in a batch, or on another thread.
 */
public final class SampleGenerator {
    private final long seed;
    private final List<Lang> langs;
    private final int width, height;
    private final boolean clean;
    private final FontCatalog fonts;

    /**
     * @param clean true for renders meant as OCR ground truth: upright text, solid or gentle
     *              backgrounds, strong contrast, no outline, shadow, grain or perspective
     */
    public SampleGenerator(long seed, List<Lang> langs, int width, int height, boolean clean, FontCatalog fonts) {
        this.seed = seed;
        this.langs = List.copyOf(langs);
        this.width = width;
        this.height = height;
        this.clean = clean;
        this.fonts = fonts;
    }

    /** A generated sample with its captions. */
    public record Generated(long index, RenderedSample sample, String captionEn, String captionZh) {}

    public SampleSpec spec(long index) {
        Rng rng = Rng.forSample(seed, index);
        Lang lang = langs.get(rng.nextInt(langs.size()));
        LayoutKind kind = rng.pick(LayoutKind.values());
        Background bg = Background.random(rng, clean);
        Composer c = new Composer(width, height, lang, rng, fonts, clean, bg);
        kind.layout.compose(c);
        return c.build(kind);
    }

    public Generated generate(long index) {
        SampleSpec spec = spec(index);
        RenderedSample s = Renderer.render(spec);
        // Captions get a stream of their own so that wording changes never move the pixels.
        Rng words = Rng.forSample(seed ^ 0x6A09E667F3BCC909L, index);
        return new Generated(index, s, Captioner.english(s, words), Captioner.chinese(s, words));
    }
}
