package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ovis4j.cli.CliErrorsTest.oneLineError;
import static org.ovis4j.cli.CliErrorsTest.run;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.json.Json;
import org.ovis4j.data.cli.DataCommand;
import org.ovis4j.data.words.HeldOutSplit;
import org.ovis4j.data.words.SceneObject;
import org.ovis4j.eval.PromptFile;

/** {@code data synth --words} and {@code data eval-prompts}: bad input is one line, the shipped prompt files are current. */
class WordsCliTest {
    static final Path MINI = Path.of("..", "models", "ovis-mini");

    @TempDir
    Path dir;

    private Path file(String name, String content) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    private CliErrorsTest.Run synth(String... extra) {
        List<String> args = new ArrayList<>(List.of("synth", "--out", dir.resolve("shards").toString(), "--count", "4",
                "--width", "128", "--height", "128"));
        args.addAll(List.of(extra));
        return run(new DataCommand(), args.toArray(String[]::new));
    }

    @Test
    void badWordsFilesAreOneLineErrorsNamingTheLine() throws Exception {
        oneLineError(synth("--words", dir.resolve("none.txt").toString()), "none.txt: cannot read the word list (no such file)");
        oneLineError(synth("--words", file("empty.txt", "\n  \n").toString()), "empty.txt: no words (expected one word per line)");
        oneLineError(synth("--words", file("digit.txt", "cat\nhe11o\n").toString()), "digit.txt:2: 'he11o' is not a word of letters a-z");
        oneLineError(synth("--words", file("space.txt", "cat\nice cream\n").toString()), "space.txt:2: 'ice cream' is not a word of letters a-z");
        oneLineError(synth("--words", file("accent.txt", "café\n").toString()), "accent.txt:1: 'café' is not a word of letters a-z");
        oneLineError(synth("--words", file("long.txt", "dog\n\nabcdefghijk\n").toString()), "long.txt:3: 'abcdefghijk' has 11 letters (3 to 10 allowed)");
        oneLineError(synth("--words", file("short.txt", "ox\n").toString()), "short.txt:1: 'ox' has 2 letters (3 to 10 allowed)");
        oneLineError(synth("--words", file("twice.txt", "cat\ndog\nCat\n").toString()), "twice.txt:3: 'Cat' is already on line 1");
        Files.write(dir.resolve("latin1.txt"), new byte[] {'c', 'a', 't', (byte) 0xE9, '\n'});
        oneLineError(synth("--words", dir.resolve("latin1.txt").toString()), "latin1.txt: not UTF-8 text");
        Path ok = file("ok.txt", "cat\ndog\nsun\n");
        oneLineError(synth("--words", ok.toString(), "--words-per-sample", "0-2"), "--words-per-sample must be N or N-M with 1 <= N <= M <= 3");
        oneLineError(synth("--words", ok.toString(), "--words-per-sample", "2-4"), "--words-per-sample must be N or N-M");
        oneLineError(synth("--words", ok.toString(), "--words-per-sample", "two"), "--words-per-sample 'two' is not N or N-M");
        oneLineError(synth("--words", file("two.txt", "cat\ndog\n").toString(), "--words-per-sample", "3"), "two.txt has 2 word(s); --words-per-sample asks for 3");
        oneLineError(synth("--words", ok.toString(), "--case", "shouty"), "--case 'shouty' is not one of upper, title, lower, mixed");
        oneLineError(synth("--words", ok.toString(), "--lang", "zh"), "--words renders English words; drop --lang zh");
        oneLineError(synth("--case", "upper"), "--case needs --words");
        oneLineError(synth("--words-per-sample", "1"), "--words-per-sample needs --words");
        assertFalse(Files.exists(dir.resolve("shards")), "an error left output behind");
        CliErrorsTest.Run good = synth("--words", ok.toString(), "--words-per-sample", "1-2", "--lang", "en");
        assertEquals(0, good.code(), good.err());
    }

    private CliErrorsTest.Run prompts(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("eval-prompts", "--words", MINI.resolve("words.txt").toString(),
                "--spelling", MINI.resolve("spelling-words.txt").toString(), "--out", out.toString()));
        args.addAll(List.of(extra));
        return run(new DataCommand(), args.toArray(String[]::new));
    }

    @Test
    void evalPromptsAreHeldOutAndTheShippedFilesAreCurrent() throws Exception {
        Path out = dir.resolve("prompts");
        CliErrorsTest.Run r = prompts(out);
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("eval-heldout.jsonl", "eval-spelling.jsonl")) {
            assertArrayEquals(Files.readAllBytes(MINI.resolve(f)), Files.readAllBytes(out.resolve(f)),
                    "models/ovis-mini/" + f + " is not what 'data eval-prompts' writes with the default settings");
        }
        Set<String> vocab = Set.copyOf(Files.readAllLines(MINI.resolve("words.txt")));
        List<PromptFile.Prompt> held = PromptFile.read(out.resolve("eval-heldout.jsonl"));
        assertEquals(200, held.size());
        Set<String> firsts = new java.util.HashSet<>();
        for (String line : Files.readAllLines(out.resolve("eval-heldout.jsonl"))) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) Json.parse(line);
            @SuppressWarnings("unchecked")
            List<String> words = (List<String>) m.get("words");
            SceneObject object = SceneObject.valueOf(((String) m.get("object")).toUpperCase());
            String color = (String) m.get("object_color");
            assertTrue(words.size() >= 1 && words.size() <= 3);
            for (String w : words) {
                assertTrue(vocab.contains(w), w);
                assertTrue(HeldOutSplit.heldOut(w, color, object), m.get("id") + ": " + w + "/" + color + "/" + object + " is not held out");
            }
            assertEquals(List.of(String.join(" ", words).toUpperCase()), m.get("texts"));
            assertEquals(m.get("texts"), PromptFile.quoted((String) m.get("prompt")));
            assertTrue(((String) m.get("prompt")).contains(color + " " + object.noun), (String) m.get("prompt"));
            firsts.add(String.join(" ", words) + "/" + color + "/" + object);
        }
        assertEquals(200, firsts.size(), "held-out prompts repeat");
        List<PromptFile.Prompt> spelling = PromptFile.read(out.resolve("eval-spelling.jsonl"));
        assertEquals(50, spelling.size());
        List<String> spellingWords = Files.readAllLines(MINI.resolve("spelling-words.txt"));
        for (int i = 0; i < 50; i++) {
            String w = spelling.get(i).texts().getFirst().toLowerCase();
            assertEquals(spellingWords.get(i), w);
            assertFalse(vocab.contains(w), w + " is a training word");
        }
        // Another seed draws other prompts; too many asked for is a one-line error.
        assertEquals(0, prompts(dir.resolve("other"), "--seed", "1").code());
        assertFalse(Files.readString(dir.resolve("other/eval-heldout.jsonl")).equals(Files.readString(out.resolve("eval-heldout.jsonl"))));
        oneLineError(prompts(dir.resolve("x"), "--count", "100000"), "held-out combinations of word, colour and object; ask for at most");
    }

    @Test
    void spellingWordsMustBeNewWords() throws Exception {
        Path spell = file("spell.txt", "walrus\ncat\n");
        CliErrorsTest.Run r = run(new DataCommand(), "eval-prompts", "--words", MINI.resolve("words.txt").toString(),
                "--spelling", spell.toString(), "--out", dir.resolve("p").toString());
        oneLineError(r, "spell.txt: 'cat' is also in");
        assertFalse(Files.exists(dir.resolve("p")));
    }
}
