package org.ovis4j.data.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.ovis4j.core.OvisException;
import org.ovis4j.data.Synthesizer;
import org.ovis4j.data.render.FontCatalog;
import org.ovis4j.data.render.Lang;
import org.ovis4j.data.words.EvalPrompts;
import org.ovis4j.data.words.LetterCase;
import org.ovis4j.data.words.WordList;
import org.ovis4j.data.words.WordSampleGenerator;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ovis4j data}: tools that make training and evaluation data. */
@Command(name = "data", description = "Make training and evaluation data.", mixinStandardHelpOptions = true,
        subcommands = {DataCommand.Synth.class, DataCommand.EvalPromptsCommand.class})
public final class DataCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return 2;
    }

    /** {@code ovis4j data synth}: typography samples into WebDataset shards. */
    @Command(name = "synth", mixinStandardHelpOptions = true,
            description = "Render image/caption pairs whose subject is text (posters, signs, labels, UI, covers, notices) "
                    + "into WebDataset tar shards with a manifest; drops unreadable samples and near duplicates.")
    public static final class Synth implements Callable<Integer> {
        @Option(names = "--count", required = true, description = "Samples to keep.")
        int count;

        @Option(names = "--out", required = true, description = "Output folder (must not exist or be empty).")
        Path out;

        @Option(names = "--seed", defaultValue = "0", description = "Random seed; the same seed gives byte-identical shards (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--lang", defaultValue = "en,zh", description = "Languages of the rendered text: en, zh or en,zh (default: ${DEFAULT-VALUE}).")
        String lang;

        @Option(names = "--width", defaultValue = "512", description = "Image width (default: ${DEFAULT-VALUE}).")
        int width;

        @Option(names = "--height", defaultValue = "512", description = "Image height (default: ${DEFAULT-VALUE}).")
        int height;

        @Option(names = "--shard-size", defaultValue = "1000", description = "Samples per shard (default: ${DEFAULT-VALUE}).")
        int shardSize;

        @Option(names = "--clean", description = "OCR ground-truth style: upright text, plain backgrounds, strong contrast, no effects.")
        boolean clean;

        @Option(names = "--min-contrast", defaultValue = "3.0", description = "Drop samples with a text line under this WCAG contrast ratio (default: ${DEFAULT-VALUE}).")
        double minContrast;

        @Option(names = "--dup-distance", defaultValue = "4", description = "Drop samples whose perceptual hash is within this many bits of a kept one; -1 disables (default: ${DEFAULT-VALUE}).")
        int dupDistance;

        @Option(names = "--files", description = "Also write images/<id>.png and prompts.jsonl, ready for 'ovis4j eval text'.")
        boolean files;

        @Option(names = "--threads", description = "Worker threads (default: available processors).")
        Integer threads;

        @Option(names = "--words", paramLabel = "FILE", description = "Word mode (the ovis-mini domain): each sample shows words of "
                + "this file (one word per line, letters a-z, 3 to 10 letters) on a poster, sign, banner, label or button, "
                + "captioned like 'A red poster that says \"HELLO\"'; English only. Held-out combinations (see 'data eval-prompts') are never drawn.")
        Path words;

        @Option(names = "--words-per-sample", paramLabel = "N[-M]", description = "With --words: words per sample, e.g. 1-3 (default: 1-3).")
        String wordsPerSample;

        @Option(names = "--case", paramLabel = "CASE", description = "With --words: upper, title, lower or mixed (default: upper).")
        String letterCase;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            try {
                int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
                Synthesizer.Summary s;
                if (words == null) {
                    if (wordsPerSample != null) throw new OvisException("--words-per-sample needs --words");
                    if (letterCase != null) throw new OvisException("--case needs --words");
                    s = Synthesizer.run(new Synthesizer.Options(count, out, seed, Lang.parseList(lang), width, height,
                            shardSize, clean, minContrast, dupDistance, t, files));
                } else {
                    if (spec.commandLine().getParseResult().hasMatchedOption("--lang") && !Lang.parseList(lang).equals(List.of(Lang.EN))) {
                        throw new OvisException("--words renders English words; drop --lang " + lang);
                    }
                    Synthesizer.Options o = new Synthesizer.Options(count, out, seed, List.of(Lang.EN), width, height,
                            shardSize, clean, minContrast, dupDistance, t, files);
                    WordSampleGenerator.Settings ws = wordSettings(words, wordsPerSample, letterCase);
                    s = Synthesizer.run(o, new WordSampleGenerator(seed, ws, width, height, clean, FontCatalog.system()));
                }
                StringBuilder drops = new StringBuilder();
                s.droppedByReason().forEach((k, v) -> drops.append(drops.isEmpty() ? "" : ", ").append(k).append(' ').append(v));
                System.out.printf("wrote %d samples in %d shard(s) to %s%n", s.kept(), s.shards().size(), out);
                System.out.printf("generated %d, dropped %d (%s)%n", s.generated(), s.generated() - s.kept(), drops);
                System.out.printf("%.1f s, %.2f images/s generated, %.2f kept/s (%dx%d, %d threads)%n", s.seconds(),
                        s.imagesPerSecond(), s.kept() / s.seconds(), width, height, t);
                return 0;
            } catch (OvisException e) {
                System.err.println("ovis4j: " + e.getMessage());
                return 1;
            } catch (RuntimeException | Error e) {
                // Not a user error but a fault of ours or the machine's (out of memory, a bug): still one
                // line unless asked for the trace, which is what a bug report needs.
                if (System.getenv("OVIS4J_DEBUG") != null) e.printStackTrace();
                System.err.println("ovis4j: unexpected " + e + (System.getenv("OVIS4J_DEBUG") == null
                        ? " (set OVIS4J_DEBUG=1 for the stack trace)" : ""));
                return 1;
            }
        }
    }

    /** {@code ovis4j data eval-prompts}: the held-out and spelling prompt files of a words model. */
    @Command(name = "eval-prompts", mixinStandardHelpOptions = true,
            description = "Write the evaluation prompts of a words model (see synth --words): eval-heldout.jsonl, scenes whose "
                    + "word, object colour and object combinations are never drawn in training, and eval-spelling.jsonl, one "
                    + "prompt per word of a list disjoint from the training words. Both are prompt files for 'ovis4j eval text'.")
    public static final class EvalPromptsCommand implements Callable<Integer> {
        @Option(names = "--words", required = true, paramLabel = "FILE", description = "The training words (as given to synth --words).")
        Path words;

        @Option(names = "--spelling", required = true, paramLabel = "FILE", description = "Words not in --words, one per line.")
        Path spelling;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder for eval-heldout.jsonl and eval-spelling.jsonl (created if missing; the files are replaced).")
        Path out;

        @Option(names = "--count", defaultValue = "200", description = "Held-out prompts (default: ${DEFAULT-VALUE}).")
        int count;

        @Option(names = "--seed", defaultValue = "0", description = "Seed of the drawing of prompts (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--words-per-sample", paramLabel = "N[-M]", description = "Words per held-out prompt, as in training (default: 1-3).")
        String wordsPerSample;

        @Option(names = "--case", paramLabel = "CASE", description = "upper, title, lower or mixed, as in training (default: upper).")
        String letterCase;

        @Option(names = "--renders", paramLabel = "DIR", description = "Also write the ground-truth renders: DIR/heldout/ID.png and DIR/spelling/ID.png.")
        Path renders;

        @Option(names = "--width", defaultValue = "128", description = "Render width (default: ${DEFAULT-VALUE}).")
        int width;

        @Option(names = "--height", defaultValue = "128", description = "Render height (default: ${DEFAULT-VALUE}).")
        int height;

        @Override
        public Integer call() {
            try {
                if (count < 1) throw new OvisException("--count must be at least 1 (got " + count + ")");
                if (width < 64 || height < 64 || width > 4096 || height > 4096) {
                    throw new OvisException("--width and --height must be between 64 and 4096 (got " + width + "x" + height + ")");
                }
                WordSampleGenerator.Settings ws = wordSettings(words, wordsPerSample, letterCase);
                WordList spell = WordList.read(spelling);
                ws.words().requireDisjoint(spell);
                if (java.nio.file.Files.isRegularFile(out)) throw new OvisException(out + " is a file; --out must name a folder");
                try {
                    java.nio.file.Files.createDirectories(out);
                } catch (java.io.IOException e) {
                    throw new OvisException("cannot create " + out + " (" + e.getMessage() + ")");
                }
                // The mixed style: evaluation asks in the training distribution's words and colours.
                WordSampleGenerator gen = new WordSampleGenerator(seed, ws, width, height, false, FontCatalog.system());
                List<EvalPrompts.Entry> held = EvalPrompts.heldOut(gen, ws.words(), ws.minWords(), ws.maxWords(), count, seed);
                List<EvalPrompts.Entry> spelled = EvalPrompts.spelling(gen, spell, seed);
                EvalPrompts.write(held, out.resolve(EvalPrompts.HELDOUT));
                EvalPrompts.write(spelled, out.resolve(EvalPrompts.SPELLING));
                System.out.printf("wrote %s (%d held-out prompts, %d words) and %s (%d prompts)%n", out.resolve(EvalPrompts.HELDOUT),
                        held.size(), held.stream().mapToInt(e -> e.drawn().scene().words().size()).sum(),
                        out.resolve(EvalPrompts.SPELLING), spelled.size());
                if (renders != null) {
                    EvalPrompts.writeRenders(held, renders.resolve("heldout"));
                    EvalPrompts.writeRenders(spelled, renders.resolve("spelling"));
                    System.out.printf("wrote the ground-truth renders (%dx%d) in %s%n", width, height, renders);
                }
                return 0;
            } catch (OvisException e) {
                System.err.println("ovis4j: " + e.getMessage());
                return 1;
            }
        }
    }

    static WordSampleGenerator.Settings wordSettings(Path file, String perSample, String letterCase) {
        int[] range = WordSampleGenerator.Settings.parseRange(perSample == null ? "1-3" : perSample);
        LetterCase lc = LetterCase.of(letterCase == null ? "upper" : letterCase);
        return new WordSampleGenerator.Settings(WordList.read(file), range[0], range[1], lc);
    }

    /** For running the command on its own until it is registered under the main ovis4j command. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new DataCommand()).execute(args));
    }
}
