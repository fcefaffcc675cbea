package org.ovis4j.data.words;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.data.SampleSource;
import org.ovis4j.data.Synthesizer;
import org.ovis4j.data.render.Colors;
import org.ovis4j.data.render.FontCatalog;
import org.ovis4j.data.render.Lang;
import org.ovis4j.data.render.RenderedLine;
import org.ovis4j.eval.PromptFile;

/** The words mode (ovis-mini's data): determinism, truthful captions, the held-out split, the vocabulary. */
class WordsModeTest {
    /** The shipped lists: the test runs in the module folder. */
    static final Path MINI = Path.of("..", "models", "ovis-mini");

    static FontCatalog fonts;
    static WordList words;

    @BeforeAll
    static void load() {
        fonts = FontCatalog.system();
        words = WordList.read(MINI.resolve("words.txt"));
    }

    static WordSampleGenerator generator(long seed, int min, int max, LetterCase lc, boolean clean, int size) {
        return new WordSampleGenerator(seed, new WordSampleGenerator.Settings(words, min, max, lc), size, size, clean, fonts);
    }

    static Synthesizer.Options options(Path out, long seed, int threads, boolean clean) {
        return new Synthesizer.Options(20, out, seed, List.of(Lang.EN), 128, 128, 8, clean, 3.0, 4, threads, true);
    }

    @Test
    void sameSeedGivesByteIdenticalShardsWhateverTheThreadCount(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b"), c = dir.resolve("c");
        Synthesizer.run(options(a, 5, 2, false), generator(5, 1, 3, LetterCase.MIXED, false, 128));
        Synthesizer.run(options(b, 5, 1, false), generator(5, 1, 3, LetterCase.MIXED, false, 128));
        Synthesizer.run(options(c, 6, 2, false), generator(6, 1, 3, LetterCase.MIXED, false, 128));
        List<Path> files = files(a);
        assertEquals(files.stream().map(p -> a.relativize(p).toString()).toList(), files(b).stream().map(p -> b.relativize(p).toString()).toList());
        assertTrue(files.size() >= 5, "shards, manifest, prompts and images: " + files);
        for (Path f : files) assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(b.resolve(a.relativize(f))), "differs: " + a.relativize(f));
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a.resolve("shard-000000.tar")), Files.readAllBytes(c.resolve("shard-000000.tar"))),
                "another seed gave the same shard");
        Map<String, Object> manifest = org.ovis4j.core.json.Json.parseObject(a.resolve("manifest.json"));
        assertEquals("words", manifest.get("mode"));
        assertEquals(20, PromptFile.read(a.resolve("prompts.jsonl")).size());
    }

    private static List<Path> files(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    /** A caption in the model's prompt style, with every colour it names. */
    static final Pattern CAPTION = Pattern.compile(
            "An? (\\w+) (poster|sign|banner|label|button)(?: with (\\w+) text)?(?: on an? (\\w+) background)?"
                    + " (?:that says|that reads|with the words?) \"([^\"]+)\"");

    @Test
    @SuppressWarnings("unchecked")
    void captionsNameTheColoursThePixelsHave() {
        int checkedText = 0, checkedBack = 0;
        for (boolean clean : new boolean[] {false, true}) {
            WordSampleGenerator gen = generator(clean ? 21 : 20, 1, 3, LetterCase.MIXED, clean, 128);
            for (int i = 0; i < 60; i++) {
                SampleSource.Sample s = gen.make(i, "k");
                String caption = (String) s.record().get("prompt");
                Matcher m = CAPTION.matcher(caption);
                assertTrue(m.matches(), "not in the prompt style: " + caption);
                WordScene scene = gen.scene(i);
                assertEquals(scene.object().noun, m.group(2), caption);
                assertEquals(scene.text(), m.group(5), caption);
                BufferedImage img = s.sample().image();
                int w = img.getWidth(), h = img.getHeight();
                boolean[] text = new boolean[w * h], object = new boolean[w * h], outside = new boolean[w * h];
                for (RenderedLine l : s.sample().lines()) mark(text, w, h, l.bbox(), 1);
                List<Map<String, Object>> panels = (List<Map<String, Object>>) s.record().get("panels");
                if (scene.object() == SceneObject.POSTER) {
                    java.util.Arrays.fill(object, true);
                } else {
                    java.util.Arrays.fill(outside, true);
                    for (Map<String, Object> p : panels) {
                        double[] box = box(p);
                        String kind = (String) p.get("kind");
                        if (kind.equals(scene.object().noun)) mark(object, w, h, inset(box, 2), 0);
                        // Off the object: outside every panel, the shadow and a margin for antialiasing included.
                        boolean[] under = new boolean[w * h];
                        mark(under, w, h, inset(box, -4), 0);
                        for (int k = 0; k < under.length; k++) if (under[k]) outside[k] = false;
                    }
                }
                for (int k = 0; k < text.length; k++) if (text[k]) object[k] = outside[k] = false;
                assertEquals(m.group(1), majorityName(img, object), "object colour of " + caption);
                if (m.group(4) != null) {
                    assertEquals(m.group(4), majorityName(img, outside), "background colour of " + caption);
                    checkedBack++;
                }
                // Text colour: the glyphs' cores are the pixels farthest from the object's colour
                // (edges blend into it). A shadow adds a third colour, so shadowed lines are skipped.
                boolean shadowed = s.sample().lines().stream().anyMatch(l -> l.item().shadow() >= 0);
                if (m.group(3) != null && !shadowed) {
                    assertEquals(m.group(3), coreName(img, text, scene.objectRgb()), "text colour of " + caption);
                    checkedText++;
                }
            }
        }
        assertTrue(checkedText >= 30 && checkedBack >= 20, "too few captions named colours: " + checkedText + ", " + checkedBack);
    }

    @SuppressWarnings("unchecked")
    private static double[] box(Map<String, Object> p) {
        List<Object> b = (List<Object>) p.get("box");
        return new double[] {((Number) b.get(0)).doubleValue(), ((Number) b.get(1)).doubleValue(),
                ((Number) b.get(2)).doubleValue(), ((Number) b.get(3)).doubleValue()};
    }

    private static double[] inset(double[] b, double by) {
        return new double[] {b[0] + by, b[1] + by, b[2] - 2 * by, b[3] - 2 * by};
    }

    private static void mark(boolean[] mask, int w, int h, double[] b, int grow) {
        int x0 = Math.max(0, (int) Math.floor(b[0]) - grow), y0 = Math.max(0, (int) Math.floor(b[1]) - grow);
        int x1 = Math.min(w, (int) Math.ceil(b[0] + b[2]) + grow), y1 = Math.min(h, (int) Math.ceil(b[1] + b[3]) + grow);
        for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) mask[y * w + x] = true;
    }

    private static String majorityName(BufferedImage img, boolean[] mask) {
        Map<String, Integer> votes = new HashMap<>();
        int w = img.getWidth();
        for (int k = 0; k < mask.length; k++) if (mask[k]) votes.merge(Colors.nameEn(img.getRGB(k % w, k / w)), 1, Integer::sum);
        assertFalse(votes.isEmpty(), "no pixels to measure");
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    private static String coreName(BufferedImage img, boolean[] mask, int ground) {
        int w = img.getWidth();
        List<int[]> px = new ArrayList<>();
        for (int k = 0; k < mask.length; k++) {
            if (!mask[k]) continue;
            int c = img.getRGB(k % w, k / w) & 0xFFFFFF;
            int dr = ((c >> 16) & 255) - ((ground >> 16) & 255), dg = ((c >> 8) & 255) - ((ground >> 8) & 255), db = (c & 255) - (ground & 255);
            px.add(new int[] {dr * dr + dg * dg + db * db, c});
        }
        px.sort((a, b) -> Integer.compare(b[0], a[0]));
        Map<String, Integer> votes = new HashMap<>();
        for (int i = 0; i < Math.max(1, px.size() / 8); i++) votes.merge(Colors.nameEn(px.get(i)[1]), 1, Integer::sum);
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }

    @Test
    void trainingNeverShowsAHeldOutCombination() {
        WordSampleGenerator gen = generator(3, 1, 3, LetterCase.UPPER, false, 128);
        Set<String> seenPairs = new HashSet<>();
        int shown = 0;
        for (int i = 0; i < 20000; i++) {
            WordScene s = gen.scene(i);
            for (String w : s.words()) {
                assertFalse(HeldOutSplit.heldOut(w, s.objectColor(), s.object()),
                        "sample " + i + " shows held-out " + w + "/" + s.objectColor() + "/" + s.object().noun);
                shown++;
            }
            seenPairs.add(s.objectColor() + "/" + s.object().noun);
        }
        // The check has teeth: about 1 in 16 of these combinations is held out, so an unfiltered
        // sampler would have shown about shown/16 of them.
        long held = EvalPrompts.heldOutCombinations(words).size();
        long all = (long) words.size() * Palette.NAMES.size() * SceneObject.values().length;
        assertTrue(held > all / 24 && held < all / 10, held + " of " + all);
        assertEquals(Palette.NAMES.size() * SceneObject.values().length, seenPairs.size(), "every colour on every object");
        assertTrue(shown > 30000);
    }

    @Test
    void samplesShowWordsOfTheFileOnly() {
        Set<String> vocab = Set.copyOf(words.words());
        Map<Integer, Integer> counts = new HashMap<>();
        for (LetterCase lc : LetterCase.values()) {
            WordSampleGenerator gen = generator(9, 1, 3, lc, false, 128);
            Set<LetterCase> cases = new HashSet<>();
            for (int i = 0; i < 400; i++) {
                WordScene s = gen.scene(i);
                assertTrue(vocab.containsAll(s.words()), s.words().toString());
                assertEquals(s.words().size(), Set.copyOf(s.words()).size(), "a word twice: " + s.words());
                assertEquals(String.join(" ", s.words().stream().map(s.letterCase()::apply).toList()), s.text());
                counts.merge(s.words().size(), 1, Integer::sum);
                cases.add(s.letterCase());
            }
            assertEquals(lc == LetterCase.MIXED ? Set.of(LetterCase.UPPER, LetterCase.TITLE, LetterCase.LOWER) : Set.of(lc), cases);
        }
        assertEquals(Set.of(1, 2, 3), counts.keySet());
        WordSampleGenerator two = generator(9, 2, 2, LetterCase.LOWER, false, 128);
        for (int i = 0; i < 50; i++) {
            SampleSource.Sample s = two.make(i, "k");
            WordScene scene = two.scene(i);
            assertEquals(2, scene.words().size());
            assertTrue(scene.text().matches("[a-z]+ [a-z]+"), scene.text());
            // What the caption quotes is what the record says the image shows.
            assertEquals(List.of(scene.text()), PromptFile.quoted((String) s.record().get("prompt")));
            assertEquals(List.of(scene.text()), s.record().get("texts"));
            assertEquals(scene.text(), String.join(" ", s.sample().lines().stream().map(l -> l.item().text()).toList()));
        }
    }

    @Test
    void textIsLargeAtTheTrainingSize() {
        // The model draws at 128x128, so the text fills its object: the font is set by the widest
        // line. The floor is the worst case of the list: a 10-letter word in a wide bold face
        // (WATERMELON in DejaVu Serif Bold, about 8 em) across a button's text box, about 9.8 px;
        // one line for three words, say, would fall far below it.
        WordSampleGenerator gen = generator(12, 1, 3, LetterCase.UPPER, false, 128);
        double smallest = Double.MAX_VALUE;
        List<Double> inkHeights = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            for (RenderedLine l : gen.make(i, "k").sample().lines()) {
                smallest = Math.min(smallest, l.item().size());
                double[] b = l.bbox();
                inkHeights.add(b[3]);
                assertTrue(b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= 128 && b[1] + b[3] <= 128, "line off the image: " + l.item().text());
            }
        }
        inkHeights.sort(null);
        assertTrue(smallest >= 9, "smallest font " + smallest + " px at 128x128");
        // Capitals: the ink height of a line is its cap height, median about 16.7 px (13% of the image).
        assertTrue(inkHeights.get(inkHeights.size() / 2) >= 14, "median line height " + inkHeights.get(inkHeights.size() / 2) + " px");
    }
}
