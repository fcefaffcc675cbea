package org.ovis4j.eval;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ovis4j.data.render.Effects;
import org.ovis4j.data.render.FontCatalog;
import org.ovis4j.data.render.Lang;
import org.ovis4j.data.render.Renderer;
import org.ovis4j.data.render.Rng;
import org.ovis4j.data.render.SampleGenerator;
import org.ovis4j.data.render.SampleSpec;
import org.ovis4j.data.render.TextItem;

/**
 * The evaluator against ground truth. Clean renders from the data engine must score high; images
 * without the target text (random noise, blank grounds, a different text) must score near zero,
 * every one of them; the same designs with planted errors must land strictly in between. A few
 * dozen 512x512 images keep this within CI's budget; docs/evaluation.md has the figures.
 */
class OcrValidationTest {
    static final int PER_LANG = 20, PLANTED = 8, NO_TEXT = 6;
    /** Noise images per language: Tesseract takes seconds over each (it finds hundreds of specks). */
    static final int NOISE = 4;
    /** The ceiling for an image that does not show its target text (docs/evaluation.md). */
    static final double NO_TEXT_MAX_NED = 0.2;
    static Path tessdata;
    static FontCatalog fonts;
    static ExecutorService pool;
    static final ThreadLocal<OcrEngine> ENGINE = new ThreadLocal<>();
    static final List<OcrEngine> ENGINES = java.util.Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void setUp() {
        // Both fail with a one-line message naming the Debian package when data is missing.
        tessdata = TesseractOcr.locate(null, System.getenv("TESSDATA_PREFIX"), List.of(Lang.EN, Lang.ZH));
        fonts = FontCatalog.system();
        pool = Executors.newFixedThreadPool(2);
    }

    @AfterAll
    static void tearDown() {
        pool.shutdown();
        ENGINES.forEach(OcrEngine::close);
    }

    record Case(String name, BufferedImage image, List<String> texts, Lang lang) {}

    record Scored(Case c, TextMetrics.Score score, List<OcrReading> readings) {}

    static List<SampleSpec> clean(Lang lang, long seed, int n) {
        SampleGenerator gen = new SampleGenerator(seed, List.of(lang), 512, 512, true, fonts);
        List<SampleSpec> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(gen.spec(i));
        return out;
    }

    static List<String> texts(SampleSpec s) {
        return s.items().stream().map(TextItem::text).toList();
    }

    /** Every image scored, OCR on two threads with an engine each. */
    static List<Scored> scoreEach(List<Case> cases) throws Exception {
        List<Future<Scored>> fs = new ArrayList<>();
        for (Case c : cases) {
            fs.add(pool.submit(() -> {
                OcrEngine e = ENGINE.get();
                if (e == null) {
                    e = new TesseractOcr(tessdata, TesseractOcr.DEFAULT_PSM);
                    ENGINE.set(e);
                    ENGINES.add(e);
                }
                List<OcrReading> readings = e.read(c.image(), c.lang());
                return new Scored(c, TextMetrics.score(c.texts(), readings), readings);
            }));
        }
        List<Scored> out = new ArrayList<>();
        for (Future<Scored> f : fs) out.add(f.get());
        return out;
    }

    /** Mean word accuracy and NED over the cases. */
    static double[] score(List<Case> cases) throws Exception {
        return mean(scoreEach(cases));
    }

    static double[] mean(List<Scored> s) {
        double wa = 0, ned = 0;
        for (Scored x : s) {
            wa += x.score().wordAccuracy();
            ned += x.score().ned();
        }
        return new double[] {wa / s.size(), ned / s.size()};
    }

    static List<Case> render(List<SampleSpec> specs, List<List<String>> truth, String name) {
        List<Case> out = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            out.add(new Case(name + " " + i, Renderer.render(specs.get(i)).image(), truth.get(i), specs.get(i).lang()));
        }
        return out;
    }

    @Test
    void cleanEnglishRendersReachWordAccuracy095() throws Exception {
        List<SampleSpec> specs = clean(Lang.EN, 1001, PER_LANG);
        double[] s = score(render(specs, specs.stream().map(OcrValidationTest::texts).toList(), "en"));
        System.out.printf("clean en (%d images): word accuracy %.4f, NED %.4f%n", PER_LANG, s[0], s[1]);
        assertTrue(s[0] >= 0.95, "English word accuracy " + s[0] + " < 0.95 on clean renders");
    }

    @Test
    void cleanChineseRendersReachNed09() throws Exception {
        List<SampleSpec> specs = clean(Lang.ZH, 2002, PER_LANG);
        double[] s = score(render(specs, specs.stream().map(OcrValidationTest::texts).toList(), "zh"));
        System.out.printf("clean zh (%d images): word accuracy %.4f, NED %.4f%n", PER_LANG, s[0], s[1]);
        assertTrue(s[1] >= 0.9, "Chinese NED " + s[1] + " < 0.9 on clean renders");
    }

    // ---- images that do not show the target text: every one must score near zero ----

    /** Targets for the images without text: the texts of clean designs, in both languages. */
    static List<List<String>> targets(Lang lang, long seed) {
        return clean(lang, seed, NO_TEXT).stream().map(OcrValidationTest::texts).toList();
    }

    @Test
    void randomNoiseScoresNearZero() throws Exception {
        List<Case> cases = new ArrayList<>();
        for (Lang lang : Lang.values()) {
            List<List<String>> t = targets(lang, lang == Lang.EN ? 5005 : 5006);
            for (int i = 0; i < NOISE; i++) {
                // Half pixel noise, half blotches like an untrained model's decoded latents.
                long seed = 7000 + 100L * lang.ordinal() + i;
                BufferedImage img = i % 2 == 0 ? pixelNoise(512, 512, seed) : blotches(512, 512, seed);
                cases.add(new Case((i % 2 == 0 ? "pixel noise " : "blotches ") + lang.code + " " + i, img, t.get(i), lang));
            }
        }
        cases.add(new Case("blotches 256 OPEN", blotches(256, 256, 42), List.of("OPEN"), Lang.EN));
        assertNoTextScoresNearZero("noise", scoreEach(cases));
    }

    @Test
    void blankImagesScoreNearZero() throws Exception {
        List<Case> cases = new ArrayList<>();
        int[] solids = {0xFFFFFF, 0x000000, 0x808080};
        for (Lang lang : Lang.values()) {
            List<List<String>> t = targets(lang, lang == Lang.EN ? 5007 : 5008);
            for (int i = 0; i < NO_TEXT; i++) {
                BufferedImage img;
                String name;
                if (i < solids.length) {
                    img = solid(512, 512, solids[i]);
                    name = String.format(Locale.ROOT, "solid %06x", solids[i]);
                } else {
                    // A design with its grounds, boards and bars but no text at all.
                    SampleSpec s = clean(lang, 6006 + lang.ordinal(), NO_TEXT).get(i);
                    img = Renderer.render(s.withItems(List.of())).image();
                    name = "empty " + s.layout();
                }
                cases.add(new Case(name + " " + lang.code, img, t.get(i), lang));
            }
        }
        assertNoTextScoresNearZero("blank", scoreEach(cases));
    }

    @Test
    void aDifferentTextScoresNearZero() throws Exception {
        List<Case> cases = new ArrayList<>();
        for (Lang lang : Lang.values()) {
            List<SampleSpec> wanted = clean(lang, lang == Lang.EN ? 8008 : 8009, NO_TEXT);
            List<SampleSpec> drawn = clean(lang, lang == Lang.EN ? 9009 : 9010, 4 * NO_TEXT);
            // Each target is shown a design of the same language whose text shares no word with it
            // (a shared word would be there, and rightly counted).
            Set<Integer> used = new HashSet<>();
            for (SampleSpec w : wanted) {
                Set<String> words = words(texts(w));
                for (int j = 0; j < drawn.size(); j++) {
                    if (used.contains(j) || !disjoint(words, words(texts(drawn.get(j))))) continue;
                    used.add(j);
                    cases.add(new Case("wrong text " + lang.code + " " + j + " (" + String.join(" / ", texts(drawn.get(j))) + ")",
                            Renderer.render(drawn.get(j)).image(), texts(w), lang));
                    break;
                }
            }
        }
        assertTrue(cases.size() == 2 * NO_TEXT, "not enough designs with disjoint words: " + cases.size());
        assertNoTextScoresNearZero("wrong text", scoreEach(cases));
    }

    static Set<String> words(List<String> texts) {
        Set<String> out = new HashSet<>();
        for (String t : texts) out.addAll(TextNormalizer.tokens(TextNormalizer.normalize(t)));
        return out;
    }

    static boolean disjoint(Set<String> a, Set<String> b) {
        for (String x : a) if (b.contains(x)) return false;
        return true;
    }

    static void assertNoTextScoresNearZero(String group, List<Scored> scored) {
        double maxWa = 0, maxNed = 0;
        StringBuilder bad = new StringBuilder();
        for (Scored s : scored) {
            maxWa = Math.max(maxWa, s.score().wordAccuracy());
            maxNed = Math.max(maxNed, s.score().ned());
            if (s.score().wordAccuracy() > 0 || s.score().ned() > NO_TEXT_MAX_NED) {
                bad.append(String.format(Locale.ROOT, "%n  %s: WA %.4f NED %.4f for %s; matched: %s", s.c().name(),
                        s.score().wordAccuracy(), s.score().ned(), s.c().texts(), s.score().regions()));
            }
        }
        double[] m = mean(scored);
        System.out.printf("%s (%d images): word accuracy mean %.4f max %.4f, NED mean %.4f max %.4f%n", group, scored.size(),
                m[0], maxWa, m[1], maxNed);
        assertTrue(bad.isEmpty(), group + ": images without their text scored above WA 0 / NED " + NO_TEXT_MAX_NED + bad);
    }

    static BufferedImage pixelNoise(int w, int h, long seed) {
        Rng rng = new Rng(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < px.length; i++) px[i] = (int) (rng.nextLong() & 0xFFFFFF);
        return img;
    }

    /** Coloured blotches with fine grain: a coarse random grid enlarged smoothly, plus pixel noise. */
    static BufferedImage blotches(int w, int h, long seed) {
        BufferedImage coarse = pixelNoise(w / 8, h / 8, seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(coarse, 0, 0, w, h, null);
        g.dispose();
        Rng rng = new Rng(seed ^ 0x5DEECE66DL);
        int[] px = ((DataBufferInt) img.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < px.length; i++) {
            int c = px[i], out = 0;
            for (int shift = 0; shift <= 16; shift += 8) {
                int v = ((c >> shift) & 255) + (int) Math.round(rng.gaussian() * 24);
                out |= Math.max(0, Math.min(255, v)) << shift;
            }
            px[i] = out;
        }
        return img;
    }

    static BufferedImage solid(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        java.util.Arrays.fill(((DataBufferInt) img.getRaster().getDataBuffer()).getData(), rgb);
        return img;
    }

    // ---- planted errors: strictly between the no-text ceiling and the clean renders ----

    @Test
    void plantedErrorsScoreStrictlyBetweenNoTextAndClean() throws Exception {
        List<SampleSpec> specs = clean(Lang.EN, 3003, PLANTED);
        List<List<String>> truth = specs.stream().map(OcrValidationTest::texts).toList();
        List<Case> base = render(specs, truth, "en");
        double[] clean = score(base);

        List<SampleSpec> swapped = new ArrayList<>(), missing = new ArrayList<>();
        for (SampleSpec s : specs) {
            swapped.add(plant(s, OcrValidationTest::swapLetters));
            missing.add(plant(s, OcrValidationTest::dropWord));
        }
        double[] sw = score(render(swapped, truth, "swapped"));
        double[] mi = score(render(missing, truth, "missing"));
        List<Case> blurred = new ArrayList<>();
        for (Case c : base) blurred.add(new Case("blurred " + c.name(), blur(c.image(), 3.0), c.texts(), c.lang()));
        double[] bl = score(blurred);
        // Chinese too: one character replaced by a different one.
        List<SampleSpec> zh = clean(Lang.ZH, 4004, PLANTED);
        List<List<String>> zhTruth = zh.stream().map(OcrValidationTest::texts).toList();
        double[] zhClean = score(render(zh, zhTruth, "zh"));
        List<SampleSpec> zhWrong = new ArrayList<>();
        for (SampleSpec s : zh) zhWrong.add(plant(s, OcrValidationTest::replaceChar));
        double[] zhw = score(render(zhWrong, zhTruth, "zh replaced"));

        System.out.printf("planted (%d images each): en clean WA %.4f NED %.4f | swapped letter WA %.4f NED %.4f | "
                        + "missing word WA %.4f NED %.4f | blur WA %.4f NED %.4f | zh clean WA %.4f NED %.4f, "
                        + "replaced char WA %.4f NED %.4f%n",
                PLANTED, clean[0], clean[1], sw[0], sw[1], mi[0], mi[1], bl[0], bl[1], zhClean[0], zhClean[1], zhw[0], zhw[1]);
        assertBetween("a swapped letter", sw, clean, 0.05, 0.01);
        assertBetween("a missing word", mi, clean, 0.05, 0.03);
        assertBetween("blur", bl, clean, 0.05, 0.03);
        assertBetween("a replaced Chinese character", zhw, zhClean, 0.02, 0.02);
    }

    /**
     * Strictly above what an image without the text may score (WA 0, NED 0.2) and measurably below
     * the same designs rendered correctly.
     */
    static void assertBetween(String what, double[] planted, double[] clean, double waMargin, double nedMargin) {
        assertTrue(planted[0] > 0 && planted[1] > NO_TEXT_MAX_NED,
                what + " scored like an image without the text: WA " + planted[0] + ", NED " + planted[1]);
        assertTrue(planted[0] < clean[0] - waMargin && planted[1] < clean[1] - nedMargin,
                what + " did not lower the scores: WA " + planted[0] + " vs " + clean[0] + ", NED " + planted[1] + " vs " + clean[1]);
    }

    interface Edit {
        String apply(String text);
    }

    /** The same design with the longest line edited (it is the one most surely read correctly when clean). */
    static SampleSpec plant(SampleSpec s, Edit edit) {
        List<TextItem> items = new ArrayList<>(s.items());
        int longest = 0;
        for (int i = 1; i < items.size(); i++) {
            if (items.get(i).text().length() > items.get(longest).text().length()) longest = i;
        }
        items.set(longest, items.get(longest).withText(edit.apply(items.get(longest).text())));
        return s.withItems(items);
    }

    /** Swaps two neighbouring different letters inside the longest word ("Summer" becomes "Smumer"). */
    static String swapLetters(String text) {
        String[] words = text.split(" ");
        int w = 0;
        for (int i = 1; i < words.length; i++) if (words[i].length() > words[w].length()) w = i;
        char[] c = words[w].toCharArray();
        for (int i = 1; i + 1 < c.length; i++) {
            if (Character.isLetter(c[i]) && Character.isLetter(c[i + 1]) && Character.toLowerCase(c[i]) != Character.toLowerCase(c[i + 1])) {
                char t = c[i]; c[i] = c[i + 1]; c[i + 1] = t;
                break;
            }
        }
        words[w] = new String(c);
        return String.join(" ", words);
    }

    /** Drops the last word of a line with several (or its last half when it has one word). */
    static String dropWord(String text) {
        int cut = text.lastIndexOf(' ');
        return cut > 0 ? text.substring(0, cut) : text.substring(0, Math.max(1, text.length() / 2));
    }

    /** Replaces the second character with a common one that is not in the line. */
    static String replaceChar(String text) {
        int[] cps = text.codePoints().toArray();
        int pos = Math.min(1, cps.length - 1);
        for (int candidate : "国人天和上".codePoints().toArray()) {
            if (text.indexOf(candidate) < 0) {
                cps[pos] = candidate;
                break;
            }
        }
        return new String(cps, 0, cps.length);
    }

    static BufferedImage blur(BufferedImage src, double sigma) {
        int w = src.getWidth(), h = src.getHeight();
        int[] px = src.getRGB(0, 0, w, h, null, 0, w);
        int[] b = Effects.blur(px, w, h, sigma);
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        System.arraycopy(b, 0, ((DataBufferInt) out.getRaster().getDataBuffer()).getData(), 0, b.length);
        return out;
    }

}
