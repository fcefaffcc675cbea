package org.ovis4j.data.words;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.data.SampleSource;
import org.ovis4j.data.render.Background;
import org.ovis4j.data.render.Colors;
import org.ovis4j.data.render.FontCatalog;
import org.ovis4j.data.render.Metadata;
import org.ovis4j.data.render.RenderedSample;
import org.ovis4j.data.render.Renderer;
import org.ovis4j.data.render.Rng;
import org.ovis4j.data.render.SampleSpec;

/**
 * Samples for a small text-rendering model: one to three words of a words file on a poster, sign,
 * banner, label or button, captioned in the model's prompt style. Sample i draws from its own
 * stream (seed, i), like the general generator. Training samples never show a combination the
 * {@link HeldOutSplit} keeps for evaluation: a draw that would is redrawn (object and colour).
 */
public final class WordSampleGenerator implements SampleSource {
    /** The model-domain choices of a run: vocabulary, words per sample, letter case. */
    public record Settings(WordList words, int minWords, int maxWords, LetterCase letterCase) {
        public Settings {
            if (minWords < 1 || maxWords > 3 || minWords > maxWords) {
                throw new OvisException("--words-per-sample must be N or N-M with 1 <= N <= M <= 3 (got "
                        + minWords + "-" + maxWords + ")");
            }
            if (minWords > words.size()) {
                throw new OvisException(words.file() + " has " + words.size() + " word(s); --words-per-sample asks for "
                        + minWords);
            }
        }

        /** "2" or "1-3". */
        public static int[] parseRange(String s) {
            String t = s.strip();
            try {
                int dash = t.indexOf('-');
                if (dash < 0) {
                    int n = Integer.parseInt(t);
                    return new int[] {n, n};
                }
                return new int[] {Integer.parseInt(t.substring(0, dash)), Integer.parseInt(t.substring(dash + 1))};
            } catch (NumberFormatException e) {
                throw new OvisException("--words-per-sample '" + s + "' is not N or N-M (e.g. 1-3)");
            }
        }
    }

    /** One scene drawn: the spec, the pixels and the prompt. */
    public record Drawn(WordScene scene, RenderedSample sample, String caption) {}

    /** Least RGB distance (of 441) between an object and its background. */
    static final double MIN_EDGE = 150;

    static double rgbDistance(int a, int b) {
        int dr = ((a >> 16) & 255) - ((b >> 16) & 255), dg = ((a >> 8) & 255) - ((b >> 8) & 255), db = (a & 255) - (b & 255);
        return Math.sqrt(dr * dr + dg * dg + db * db);
    }

    /** Captions draw from a stream of their own, so that rewording never moves a pixel. */
    private static final long CAPTION_SALT = 0x6A09E667F3BCC909L;

    private final long seed;
    private final Settings settings;
    private final int width, height;
    private final boolean clean;
    private final FontCatalog fonts;

    public WordSampleGenerator(long seed, Settings settings, int width, int height, boolean clean, FontCatalog fonts) {
        this.seed = seed;
        this.settings = settings;
        this.width = width;
        this.height = height;
        this.clean = clean;
        this.fonts = fonts;
    }

    /** The training scene of sample {@code index}; {@code rng} is the sample's stream, left ready for layout. */
    WordScene scene(Rng rng) {
        List<String> vocab = settings.words().words();
        int k = rng.between(settings.minWords(), Math.min(settings.maxWords(), vocab.size()));
        List<String> words = new ArrayList<>();
        while (words.size() < k) {
            String w = rng.pick(vocab);
            if (!words.contains(w)) words.add(w);
        }
        for (int attempt = 0; attempt < 256; attempt++) {
            SceneObject object = rng.pick(SceneObject.values());
            String color = rng.pick(Palette.NAMES);
            if (!HeldOutSplit.anyHeldOut(words, color, object)) return complete(rng, words, color, object);
        }
        throw new OvisException("every object and colour for " + words + " is held out for evaluation");
    }

    public WordScene scene(long index) {
        return scene(Rng.forSample(seed, index));
    }

    /** The rest of a scene whose words, object colour and object are given: case, text and background colours. */
    WordScene complete(Rng rng, List<String> words, String color, SceneObject object) {
        LetterCase lc = settings.letterCase().resolve(rng);
        String text = String.join(" ", words.stream().map(lc::apply).toList());
        int spread = clean ? 10 : 18;
        int objRgb = Palette.shade(color, rng, spread);
        // WCAG 4.5 ("AA") in the mixed style; 7 ("AAA") in the clean one where the colour allows it
        // (no text colour reaches 7 on red, green, teal, blue or grey: the best of black and white then).
        double target = clean ? 7 : 4.5;
        List<String> readable = new ArrayList<>(), plain = new ArrayList<>();
        for (String n : Palette.NAMES) {
            if (n.equals(color) || Colors.contrast(Colors.named(n), objRgb) < target) continue;
            (n.equals("black") || n.equals("white") ? plain : readable).add(n);
        }
        String textName;
        if (!plain.isEmpty() && (readable.isEmpty() || rng.chance(0.5))) textName = rng.pick(plain);
        else if (!readable.isEmpty()) textName = rng.pick(readable);
        else textName = Colors.contrast(0x000000, objRgb) >= Colors.contrast(0xFFFFFF, objRgb) ? "black" : "white";
        target = Math.min(target, Colors.contrast(Colors.named(textName), objRgb));
        int textRgb = Palette.shade(textName, rng, spread);
        if (Colors.contrast(textRgb, objRgb) < target) textRgb = Colors.named(textName);
        String backName = color;
        int backRgb = objRgb;
        if (object != SceneObject.POSTER) {
            // The object must stand out from its ground in brightness, not only in hue, so its edge
            // survives a grey reading (and a VAE); and far in RGB, so that the OCR's ink map outlines
            // it whole (a frame, which the line finder drops): with a weak edge only its corners turn
            // to ink, and Tesseract reads them as "(", ">", "4" between the words (measured: 0.94
            // word accuracy of the held-out renders at 128 px before this rule).
            List<String> grounds = new ArrayList<>();
            for (String n : Palette.NAMES) {
                int c = Colors.named(n);
                if (!n.equals(color) && Colors.contrast(c, objRgb) >= 1.5 && rgbDistance(c, objRgb) >= MIN_EDGE) grounds.add(n);
            }
            backName = rng.pick(grounds);
            backRgb = Palette.shade(backName, rng, spread);
            if (rgbDistance(backRgb, objRgb) < MIN_EDGE || Colors.contrast(backRgb, objRgb) < 1.5) backRgb = Colors.named(backName);
        }
        return new WordScene(words, lc, text, object, color, objRgb, textName, textRgb, backName, backRgb);
    }

    /** Lays out, renders and captions a scene: the layout continues {@code rng}, the caption uses its own. */
    Drawn draw(WordScene scene, Rng rng, Rng captionRng) {
        SampleSpec spec = WordLayout.compose(scene, rng, fonts, width, height, clean);
        return new Drawn(scene, Renderer.render(spec), WordCaptioner.caption(scene, captionRng));
    }

    public Drawn draw(long index) {
        Rng rng = Rng.forSample(seed, index);
        WordScene scene = scene(rng);
        return draw(scene, rng, Rng.forSample(seed ^ CAPTION_SALT, index));
    }

    @Override
    public Sample make(long index, String key) {
        Drawn d = draw(index);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", key);
        m.put("seed", seed);
        m.put("index", index);
        m.putAll(record(d));
        return new Sample(d.sample(), m, List.of(d.scene().text()));
    }

    /** The fields a word sample's record and an evaluation prompt share. */
    Map<String, Object> record(Drawn d) {
        WordScene s = d.scene();
        SampleSpec spec = d.sample().spec();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("width", (long) spec.width());
        m.put("height", (long) spec.height());
        m.put("lang", "en");
        m.put("mode", mode());
        m.put("prompt", d.caption());
        m.put("texts", List.of(s.text()));
        m.put("words", List.copyOf(s.words()));
        m.put("case", s.letterCase().id);
        m.put("object", s.object().id());
        m.put("object_color", Metadata.ordered("name", s.objectColor(), "rgb", Colors.hex(s.objectRgb())));
        m.put("text_color", Metadata.ordered("name", s.textColor(), "rgb", Colors.hex(s.textRgb())));
        Background bg = spec.background();
        m.put("background", Metadata.ordered("name", s.backColor(), "kind", bg.kind().id(),
                "colors", List.of(Colors.hex(bg.a()), Colors.hex(bg.b())), "grain", Math.round(bg.grain() * 100) / 100.0));
        m.put("panels", spec.panels().stream().map(p -> (Object) Metadata.ordered("kind", p.kind(),
                "box", List.of(r(p.x()), r(p.y()), r(p.w()), r(p.h())), "color", Colors.hex(p.color()))).toList());
        m.put("lines", Metadata.lines(d.sample()));
        return m;
    }

    private static double r(float v) {
        return Math.round(v * 100) / 100.0;
    }

    private String mode() {
        return clean ? "words-clean" : "words";
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("langs", List.of("en"));
        m.put("mode", mode());
        m.put("words", Metadata.ordered("file", settings.words().file().getFileName().toString(),
                "count", (long) settings.words().size(), "sha256", sha256(settings.words()),
                "per_sample", settings.minWords() + "-" + settings.maxWords(), "case", settings.letterCase().id,
                "heldout_split", HeldOutSplit.ID));
        return m;
    }

    /** Of the words as read (lower case, one per line): the same list gives the same digest however it was formatted. */
    static String sha256(WordList words) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String w : words.words()) md.update((w + "\n").getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
