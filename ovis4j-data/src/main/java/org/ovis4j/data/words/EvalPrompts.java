package org.ovis4j.data.words;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.image.PngWriter;
import org.ovis4j.core.json.Json;
import org.ovis4j.data.Synthesizer;
import org.ovis4j.data.render.Rng;

/**
 * The evaluation prompts of a words model, in the evaluator's prompt-file format (id, prompt,
 * texts, lang, plus the scene's facts):
 * <ul>
 *   <li>held out: scenes whose every (word, object colour, object) is held out of training by
 *       {@link HeldOutSplit}, so none was ever shown; each prompt's first drawn combination is
 *       distinct, and further words (for 2-3 word prompts) come from the words held out with the
 *       same colour and object;</li>
 *   <li>spelling: one prompt per word of a list disjoint from the training words (no ground truth
 *       was ever seen: a measure of spelling).</li>
 * </ul>
 * The scenes are drawn like training scenes (same case, colour and caption rules), and their
 * ground-truth renders can be written too, giving the OCR ceiling of each set.
 */
public final class EvalPrompts {
    private EvalPrompts() {}

    public static final String HELDOUT = "eval-heldout.jsonl", SPELLING = "eval-spelling.jsonl";
    private static final long HELDOUT_SALT = 0x4845_4C44_4F55_54L, SPELLING_SALT = 0x5350_454C_4CL, CAPTION_SALT = 0x4341_5054L;

    /** One prompt: its id and the scene drawn for it. */
    public record Entry(String id, WordSampleGenerator.Drawn drawn) {}

    private record Combination(String word, String color, SceneObject object) {}

    /** Every held-out combination of the list, in file, palette and object order. */
    static List<Combination> heldOutCombinations(WordList words) {
        List<Combination> out = new ArrayList<>();
        for (String w : words.words()) {
            for (String c : Palette.NAMES) {
                for (SceneObject o : SceneObject.values()) if (HeldOutSplit.heldOut(w, c, o)) out.add(new Combination(w, c, o));
            }
        }
        return out;
    }

    public static List<Entry> heldOut(WordSampleGenerator gen, WordList words, int minWords, int maxWords, int count, long seed) {
        List<Combination> all = heldOutCombinations(words);
        if (all.size() < count) {
            throw new OvisException(words.file() + " gives only " + all.size() + " held-out combinations of word, colour and object; "
                    + "ask for at most that many with --count or use more words");
        }
        Rng order = new Rng(seed ^ HELDOUT_SALT);
        for (int i = all.size() - 1; i > 0; i--) {
            int j = order.nextInt(i + 1);
            Combination t = all.get(i);
            all.set(i, all.get(j));
            all.set(j, t);
        }
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Combination first = all.get(i);
            Rng rng = Rng.forSample(seed ^ HELDOUT_SALT, i);
            List<String> partners = new ArrayList<>();
            for (Combination c : all) {
                if (c.color().equals(first.color()) && c.object() == first.object() && !c.word().equals(first.word())) partners.add(c.word());
            }
            int k = Math.min(rng.between(minWords, maxWords), partners.size() + 1);
            List<String> chosen = new ArrayList<>(List.of(first.word()));
            while (chosen.size() < k) {
                String w = rng.pick(partners);
                if (!chosen.contains(w)) chosen.add(rng.nextInt(chosen.size() + 1), w);
            }
            WordScene scene = gen.complete(rng, chosen, first.color(), first.object());
            out.add(new Entry(String.format("heldout-%03d", i), gen.draw(scene, rng, Rng.forSample(seed ^ CAPTION_SALT, i))));
        }
        return out;
    }

    public static List<Entry> spelling(WordSampleGenerator gen, WordList spelling, long seed) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < spelling.size(); i++) {
            Rng rng = Rng.forSample(seed ^ SPELLING_SALT, i);
            SceneObject object = rng.pick(SceneObject.values());
            String color = rng.pick(Palette.NAMES);
            WordScene scene = gen.complete(rng, List.of(spelling.get(i)), color, object);
            out.add(new Entry(String.format("spelling-%02d", i), gen.draw(scene, rng, Rng.forSample(seed ^ SPELLING_SALT ^ CAPTION_SALT, i))));
        }
        return out;
    }

    /** The prompt-file line of an entry: what the evaluator reads, then the scene's facts. */
    public static Map<String, Object> line(Entry e) {
        WordScene s = e.drawn().scene();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id());
        m.put("prompt", e.drawn().caption());
        m.put("texts", List.of(s.text()));
        m.put("lang", "en");
        m.put("words", List.copyOf(s.words()));
        m.put("object", s.object().id());
        m.put("object_color", s.objectColor());
        m.put("text_color", s.textColor());
        m.put("background_color", s.backColor());
        return m;
    }

    /** Writes the prompt file (atomically: a temporary file renamed over the target). */
    public static void write(List<Entry> entries, Path file) {
        StringBuilder b = new StringBuilder();
        for (Entry e : entries) b.append(Json.write(line(e), 0)).append('\n');
        writeAtomically(file, b.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Writes each entry's ground-truth render as DIR/ID.png. */
    public static void writeRenders(List<Entry> entries, Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new OvisException("cannot create " + dir + " (" + e.getMessage() + ")");
        }
        for (Entry e : entries) {
            BufferedImage img = e.drawn().sample().image();
            byte[] png;
            try {
                png = PngWriter.encode(Synthesizer.rgb(img), img.getWidth(), img.getHeight(), null);
            } catch (IOException x) {
                throw new UncheckedIOException(x); // in memory: cannot happen
            }
            writeAtomically(dir.resolve(e.id() + ".png"), png);
        }
    }

    static void writeAtomically(Path file, byte[] bytes) {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".partial");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the write already failed; that is the error to report
            }
            throw new OvisException("cannot write " + file + " (" + e.getMessage() + ")");
        }
    }
}
