package org.ovis4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.json.Json;
import org.ovis4j.data.filter.DuplicateIndex;
import org.ovis4j.data.filter.PerceptualHash;
import org.ovis4j.data.filter.QualityFilter;
import org.ovis4j.data.render.FontCatalog;
import org.ovis4j.data.render.Lang;
import org.ovis4j.data.render.Renderer;
import org.ovis4j.data.render.SampleGenerator;
import org.ovis4j.data.render.SampleSpec;
import org.ovis4j.data.render.TextItem;
import org.ovis4j.core.tar.TarReader;
import org.ovis4j.eval.PromptFile;

/** Shards, metadata, filters and determinism of the data engine, on small runs. */
class DataEngineTest {
    @TempDir
    static Path dir;

    static FontCatalog fonts;
    static Synthesizer.Summary summary;
    static Path first;

    @BeforeAll
    static void run() {
        // Fails (not skips) with the message naming the missing Debian package.
        fonts = FontCatalog.system();
        first = dir.resolve("a");
        summary = Synthesizer.run(options(first, 42, 2, true), fonts);
    }

    static Synthesizer.Options options(Path out, long seed, int threads, boolean files) {
        return new Synthesizer.Options(14, out, seed, List.of(Lang.EN, Lang.ZH), 256, 256, 5, false, 3.0, 4, threads, files);
    }

    @Test
    void sameSeedGivesByteIdenticalOutputWhateverTheThreadCount() throws Exception {
        Path again = dir.resolve("b");
        Synthesizer.run(options(again, 42, 1, true), fonts);
        List<Path> files = list(first);
        assertEquals(files.stream().map(p -> first.relativize(p).toString()).toList(),
                list(again).stream().map(p -> again.relativize(p).toString()).toList());
        for (Path f : files) {
            assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(again.resolve(first.relativize(f))), "differs: " + first.relativize(f));
        }
        Path other = dir.resolve("c");
        Synthesizer.run(options(other, 43, 2, false), fonts);
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(first.resolve("shard-000000.tar")),
                Files.readAllBytes(other.resolve("shard-000000.tar"))), "another seed gave the same shard");
    }

    private static List<Path> list(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void shardsHoldPngJsonPairsDescribedByTheManifest() throws Exception {
        Map<String, Object> manifest = Json.parseObject(first.resolve("manifest.json"));
        assertEquals(14L, manifest.get("count"));
        List<Object> shards = (List<Object>) manifest.get("shards");
        assertEquals(3, shards.size()); // 5 + 5 + 4
        Map<String, Object> filter = (Map<String, Object>) manifest.get("filter");
        Map<String, Object> dropped = (Map<String, Object>) filter.get("dropped");
        long droppedTotal = dropped.values().stream().mapToLong(v -> (Long) v).sum();
        assertEquals((Long) manifest.get("generated") - 14, droppedTotal, "every drop is counted");
        assertEquals(droppedTotal, ((List<Object>) filter.get("dropped_samples")).size(), "every drop is listed");

        int samples = 0;
        for (Object o : shards) {
            Map<String, Object> s = (Map<String, Object>) o;
            Path tar = first.resolve((String) s.get("file"));
            assertEquals(Files.size(tar), (Long) s.get("bytes"));
            Map<String, byte[]> entries = TarReader.readAll(tar);
            List<String> names = new ArrayList<>(entries.keySet());
            assertEquals(2 * (Long) s.get("samples"), names.size());
            for (int i = 0; i < names.size(); i += 2) {
                String key = names.get(i).replace(".png", "");
                assertEquals(key + ".png", names.get(i));
                assertEquals(key + ".json", names.get(i + 1));
                checkSample(key, entries.get(names.get(i)), entries.get(names.get(i + 1)));
                samples++;
            }
        }
        assertEquals(14, samples);
        // The evaluator's input, written by --files, lists the same samples.
        assertEquals(14, PromptFile.read(first.resolve("prompts.jsonl")).size());
        assertEquals(14, list(first.resolve("images")).size());
    }

    @SuppressWarnings("unchecked")
    private static void checkSample(String key, byte[] png, byte[] json) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertNotNull(img, key + ".png does not decode");
        assertEquals(256, img.getWidth());
        assertEquals(256, img.getHeight());
        Map<String, Object> m = (Map<String, Object>) Json.parse(new String(json, StandardCharsets.UTF_8));
        assertEquals(key, m.get("id"));
        List<Object> lines = (List<Object>) m.get("lines");
        List<Object> texts = (List<Object>) m.get("texts");
        assertFalse(lines.isEmpty());
        assertEquals(lines.size(), texts.size());
        for (int i = 0; i < lines.size(); i++) {
            Map<String, Object> l = (Map<String, Object>) lines.get(i);
            assertEquals(texts.get(i), l.get("text"));
            for (String field : List.of("bbox", "quad", "font", "font_file", "size", "color", "weight", "rotation", "contrast")) {
                assertTrue(l.containsKey(field), key + " line lacks " + field);
            }
            List<Object> bbox = (List<Object>) l.get("bbox");
            double x = ((Number) bbox.get(0)).doubleValue(), y = ((Number) bbox.get(1)).doubleValue();
            double w = ((Number) bbox.get(2)).doubleValue(), h = ((Number) bbox.get(3)).doubleValue();
            assertTrue(w > 0 && h > 0 && x >= -1.5 && y >= -1.5 && x + w <= 257.5 && y + h <= 257.5, key + " bbox " + bbox);
            assertTrue(((String) l.get("color")).matches("#[0-9a-f]{6}"));
            assertTrue(((Number) l.get("contrast")).doubleValue() > 0);
        }
        // The captions quote exactly the rendered lines: what the evaluator extracts is the ground truth.
        assertEquals(texts, new ArrayList<Object>(PromptFile.quoted((String) m.get("caption_en"))), key + " caption_en");
        assertEquals(texts, new ArrayList<Object>(PromptFile.quoted((String) m.get("caption_zh"))), key + " caption_zh");
        assertTrue(List.of("en", "zh").contains(m.get("lang")));
    }

    @Test
    void missingFontsAreAOneLineErrorNamingThePackage(@TempDir Path empty) {
        org.ovis4j.core.OvisException e = org.junit.jupiter.api.Assertions.assertThrows(
                org.ovis4j.core.OvisException.class, () -> FontCatalog.load(empty));
        assertTrue(e.getMessage().contains("not found; install the Debian package fonts-dejavu-core"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void filterNamesBlankLowContrastAndClippedSamples() {
        SampleGenerator gen = new SampleGenerator(5, List.of(Lang.EN), 256, 256, true, fonts);
        SampleSpec spec = gen.spec(0);
        QualityFilter filter = new QualityFilter(3.0, 2.0);
        assertNull(filter.check(Renderer.render(spec)), "a clean render passes");

        TextItem t = spec.items().get(0);
        int ground = t.under();
        TextItem faint = new TextItem(t.role(), t.text(), t.face(), t.size(), ground ^ 0x010101, t.x(), t.baseline(), t.align(),
                0, -1, 0, -1, 0, 0, ground);
        assertEquals(QualityFilter.Reason.LOW_CONTRAST, filter.check(Renderer.render(spec.withItems(List.of(faint)))).reason());

        TextItem off = new TextItem(t.role(), t.text(), t.face(), t.size(), t.color(), 240, t.baseline(), TextItem.Align.LEFT,
                0, -1, 0, -1, 0, 0, ground);
        assertEquals(QualityFilter.Reason.CLIPPED, filter.check(Renderer.render(spec.withItems(List.of(off)))).reason());

        assertEquals(QualityFilter.Reason.BLANK, filter.check(Renderer.render(spec.withItems(List.of()))).reason());
    }

    @Test
    void nearDuplicatesNeedCloseHashesAndTheSameText() {
        SampleGenerator gen = new SampleGenerator(9, List.of(Lang.EN), 256, 256, true, fonts);
        SampleSpec spec = gen.spec(3);
        BufferedImage a = Renderer.render(spec).image();
        // The same design with the text nudged by a pixel: perceptually the same image.
        List<TextItem> moved = spec.items().stream().map(t -> new TextItem(t.role(), t.text(), t.face(), t.size(), t.color(),
                t.x() + 1, t.baseline(), t.align(), t.rotation(), t.outline(), t.outlineWidth(), t.shadow(), t.shadowDx(),
                t.shadowDy(), t.under())).toList();
        BufferedImage b = Renderer.render(spec.withItems(moved)).image();
        int d = PerceptualHash.distance(PerceptualHash.of(a), PerceptualHash.of(b));
        assertTrue(d <= 4, "distance " + d);
        DuplicateIndex index = new DuplicateIndex(4);
        index.add(PerceptualHash.of(a), "000001", "SALE");
        DuplicateIndex.Match m = index.find(PerceptualHash.of(b), "SALE");
        assertNotNull(m);
        assertEquals("000001", m.key());
        assertNull(index.find(PerceptualHash.of(b), "OPEN"), "different text is never a duplicate");
        BufferedImage unrelated = Renderer.render(gen.spec(4)).image();
        assertNotEquals(0, PerceptualHash.distance(PerceptualHash.of(a), PerceptualHash.of(unrelated)));
    }
}
