package org.ovis4j.eval.cli;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.ovis4j.core.OvisException;
import org.ovis4j.data.render.Lang;
import org.ovis4j.eval.Evaluator;
import org.ovis4j.eval.PromptFile;
import org.ovis4j.eval.Report;
import org.ovis4j.eval.TesseractOcr;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ovis4j eval}: measure generated images. */
@Command(name = "eval", description = "Evaluate generated images.", mixinStandardHelpOptions = true,
        subcommands = {EvalCommand.Text.class})
public final class EvalCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Exit code when the report was written but some images could not be read. */
    public static final int SOME_FAILED = 3;

    @Override
    public Integer call() {
        spec.commandLine().usage(System.err);
        return 2;
    }

    /** {@code ovis4j eval text}: OCR the images and score the rendered text against the prompts. */
    @Command(name = "text", mixinStandardHelpOptions = true,
            description = "OCR each <id>.png/.jpg and score it against the quoted texts of its prompt: word accuracy "
                    + "and NED (1 - normalised edit distance, higher is better), overall, per language and per number "
                    + "of text regions. Writes report.json and report.md into --out. Exit code 3: the report was written "
                    + "but some images could not be read (they are listed in it).")
    public static final class Text implements Callable<Integer> {
        @Option(names = "--images", required = true, description = "Folder of images named <id>.png or <id>.jpg.")
        Path images;

        @Option(names = "--prompts", required = true, description = "JSONL with id, prompt, optional texts and lang.")
        Path prompts;

        @Option(names = "--out", required = true, description = "Report folder.")
        Path out;

        @Option(names = "--tessdata", description = "Folder with eng/chi_sim .traineddata (default: $TESSDATA_PREFIX, then /usr/share/tesseract-ocr/*/tessdata).")
        Path tessdata;

        @Option(names = "--psm", defaultValue = "11", description = "Tesseract page segmentation mode (default: ${DEFAULT-VALUE}, sparse text).")
        int psm;

        @Option(names = "--scale", defaultValue = "0", description = "Enlarge images by this factor before OCR; 0 picks one from the size (default: ${DEFAULT-VALUE}).")
        int scale;

        @Option(names = "--single-reading", description = "OCR only the image as it is, not also its ink map and line crops (faster, misses more text; see docs/evaluation.md).")
        boolean singleReading;

        @Option(names = "--threads", description = "OCR worker threads (default: available processors).")
        Integer threads;

        @Override
        public Integer call() {
            try {
                List<PromptFile.Prompt> ps = PromptFile.read(prompts);
                Set<Lang> langs = new LinkedHashSet<>();
                for (PromptFile.Prompt p : ps) langs.add(p.lang());
                Path data = TesseractOcr.locate(tessdata, System.getenv("TESSDATA_PREFIX"), langs);
                int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
                if (t <= 0) throw new OvisException("--threads must be at least 1 (got " + t + ")");
                if (scale < 0 || scale > 8) throw new OvisException("--scale must be between 0 and 8 (got " + scale + ")");
                if (psm < 0 || psm > 13) throw new OvisException("--psm must be between 0 and 13 (got " + psm + ")");
                long start = System.nanoTime();
                Evaluator.Result r = Evaluator.run(images, ps, () -> new TesseractOcr(data, psm, scale, !singleReading), t);
                Report.write(r, out);
                System.out.printf("%d images: word accuracy %.4f, NED %.4f (1 - normalised edit distance, higher is better)%n",
                        r.overall().images(), r.overall().wordAccuracy(), r.overall().ned());
                r.perLanguage().forEach((k, a) -> System.out.printf("  %s: %d images, word accuracy %.4f, NED %.4f%n",
                        k, a.images(), a.wordAccuracy(), a.ned()));
                System.out.printf("report in %s (%.1f s)%n", out.resolve("report.json"), (System.nanoTime() - start) / 1e9);
                if (r.failed() > 0) {
                    Evaluator.ImageResult first = r.images().stream().filter(i -> !i.ok()).findFirst().orElseThrow();
                    System.err.println("ovis4j: " + r.failed() + " of " + r.images().size() + " images could not be read and are "
                            + "not scored (first: " + first.image().getFileName() + ": " + first.error() + "); see report.json");
                    return SOME_FAILED;
                }
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

    /** For running the command on its own until it is registered under the main ovis4j command. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new EvalCommand()).execute(args));
    }
}
