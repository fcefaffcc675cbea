package org.ovis4j.eval;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
import org.ovis4j.data.render.SampleGenerator;
import org.ovis4j.data.render.SampleSpec;
import org.ovis4j.data.render.TextItem;

/**
 * The evaluator against ground truth: clean renders from the data engine must score high, and the
 * same designs with planted errors must score measurably lower. A few dozen 512x512 images keep
 * this within CI's budget; docs/evaluation.md has the figures on larger sets.
 */
class OcrValidationTest {
    static final int PER_LANG = 20, PLANTED = 8;
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

    record Case(BufferedImage image, List<String> texts, Lang lang) {}

    static List<SampleSpec> clean(Lang lang, long seed, int n) {
        SampleGenerator gen = new SampleGenerator(seed, List.of(lang), 512, 512, true, fonts);
        List<SampleSpec> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(gen.spec(i));
        return out;
    }

    static List<String> texts(SampleSpec s) {
        return s.items().stream().map(TextItem::text).toList();
    }

    /** Mean word accuracy and NED over the cases, OCR on two threads with an engine each. */
    static double[] score(List<Case> cases) throws Exception {
        List<Future<TextMetrics.Score>> fs = new ArrayList<>();
        for (Case c : cases) {
            fs.add(pool.submit(() -> {
                OcrEngine e = ENGINE.get();
                if (e == null) {
                    e = new TesseractOcr(tessdata, TesseractOcr.DEFAULT_PSM);
                    ENGINE.set(e);
                    ENGINES.add(e);
                }
                return TextMetrics.score(c.texts(), e.recognize(c.image(), c.lang()));
            }));
        }
        double wa = 0, ned = 0;
        for (Future<TextMetrics.Score> f : fs) {
            wa += f.get().wordAccuracy();
            ned += f.get().ned();
        }
        return new double[] {wa / cases.size(), ned / cases.size()};
    }

    static List<Case> render(List<SampleSpec> specs, List<List<String>> truth) {
        List<Case> out = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) out.add(new Case(Renderer.render(specs.get(i)).image(), truth.get(i), specs.get(i).lang()));
        return out;
    }

    static double[] englishClean, englishSwapped, englishMissing, englishBlurred;

    @Test
    void cleanEnglishRendersReachWordAccuracy095() throws Exception {
        List<SampleSpec> specs = clean(Lang.EN, 1001, PER_LANG);
        double[] s = score(render(specs, specs.stream().map(OcrValidationTest::texts).toList()));
        System.out.printf("clean en (%d images): word accuracy %.4f, NED %.4f%n", PER_LANG, s[0], s[1]);
        assertTrue(s[0] >= 0.95, "English word accuracy " + s[0] + " < 0.95 on clean renders");
    }

    @Test
    void cleanChineseRendersReachNed09() throws Exception {
        List<SampleSpec> specs = clean(Lang.ZH, 2002, PER_LANG);
        double[] s = score(render(specs, specs.stream().map(OcrValidationTest::texts).toList()));
        System.out.printf("clean zh (%d images): word accuracy %.4f, NED %.4f%n", PER_LANG, s[0], s[1]);
        assertTrue(s[1] >= 0.9, "Chinese NED " + s[1] + " < 0.9 on clean renders");
    }

    @Test
    void plantedErrorsScoreMeasurablyLower() throws Exception {
        List<SampleSpec> specs = clean(Lang.EN, 3003, PLANTED);
        List<List<String>> truth = specs.stream().map(OcrValidationTest::texts).toList();
        List<Case> base = render(specs, truth);
        double[] clean = score(base);

        List<SampleSpec> swapped = new ArrayList<>(), missing = new ArrayList<>();
        for (SampleSpec s : specs) {
            swapped.add(plant(s, OcrValidationTest::swapLetters));
            missing.add(plant(s, OcrValidationTest::dropWord));
        }
        double[] sw = score(render(swapped, truth));
        double[] mi = score(render(missing, truth));
        List<Case> blurred = new ArrayList<>();
        for (Case c : base) blurred.add(new Case(blur(c.image(), 3.0), c.texts(), c.lang()));
        double[] bl = score(blurred);
        // Chinese too: one character replaced by a different one.
        List<SampleSpec> zh = clean(Lang.ZH, 4004, PLANTED);
        List<List<String>> zhTruth = zh.stream().map(OcrValidationTest::texts).toList();
        double[] zhClean = score(render(zh, zhTruth));
        List<SampleSpec> zhWrong = new ArrayList<>();
        for (SampleSpec s : zh) zhWrong.add(plant(s, OcrValidationTest::replaceChar));
        double[] zhw = score(render(zhWrong, zhTruth));

        System.out.printf("planted (%d images each): en clean WA %.4f NED %.4f | swapped letter WA %.4f NED %.4f | "
                        + "missing word WA %.4f NED %.4f | blur WA %.4f NED %.4f | zh clean NED %.4f, replaced char NED %.4f%n",
                PLANTED, clean[0], clean[1], sw[0], sw[1], mi[0], mi[1], bl[0], bl[1], zhClean[1], zhw[1]);
        assertTrue(sw[0] < clean[0] - 0.05 && sw[1] < clean[1] - 0.01, "a swapped letter did not lower the scores");
        assertTrue(mi[0] < clean[0] - 0.05 && mi[1] < clean[1] - 0.03, "a missing word did not lower the scores");
        assertTrue(bl[0] < clean[0] - 0.05 && bl[1] < clean[1] - 0.03, "blur did not lower the scores");
        assertTrue(zhw[1] < zhClean[1] - 0.02, "a replaced Chinese character did not lower NED");
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
