package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import org.ovis4j.core.OvisException;
import org.ovis4j.data.render.Lang;
import org.ovis4j.eval.Evaluator;
import org.ovis4j.eval.OcrEngine;
import org.ovis4j.eval.PromptFile;
import org.ovis4j.eval.Report;
import org.ovis4j.eval.TesseractOcr;

/**
 * The learning curve of a run (config key {@code eval}): what a text-rendering model is trained for,
 * measured while it trains. Every {@code every} steps the evaluation prompts are drawn with the current
 * weights ({@link SampleRenderer}, the pipeline's own path, into {@code eval/step-NNNNNN/<id>.png}) and
 * read back by OCR with {@code ovis4j eval text}'s scoring ({@link Evaluator}: strict per-region word
 * accuracy and NED, docs/evaluation.md), the report beside the images. Each measurement is one row of
 * {@code eval.csv} (step, samples seen, training seconds so far, images, word accuracy, NED), drawn
 * against the samples seen in {@code eval.png}.
 *
 * <p>The CSV lives in the run folder, not in the checkpoints: a resumed run keeps the rows up to the
 * step it resumes from and measures the later steps again, as the uninterrupted run would have.
 */
final class LearningCurve {
    static final String CSV = "eval.csv", PLOT = "eval.png", HEADER = "step,samples,train_seconds,images,word_accuracy,ned";

    record Row(long step, long samples, double trainSeconds, int images, double wordAccuracy, double ned) {}

    private final List<PromptFile.Prompt> prompts;
    private final SampleRenderer renderer;
    private final Supplier<OcrEngine> ocr;
    private final RunFolder folder;
    private final long every;
    private final List<Row> rows = new ArrayList<>();

    /**
     * Reads the prompts and finds the OCR data now, so that a missing file or language package stops the
     * run before it trains; {@code ocr} null: Tesseract as {@code eval text} runs it.
     */
    static LearningCurve open(TrainConfig.Eval cfg, RunFolder folder, long resumedStep, Supplier<OcrEngine> ocr,
                              java.util.function.Function<List<SampleRenderer.Prompt>, SampleRenderer> renderers) {
        List<PromptFile.Prompt> all = PromptFile.read(cfg.prompts());
        if (all.isEmpty()) throw new OvisException(cfg.prompts() + ": no prompts (key \"eval.prompts\")");
        List<PromptFile.Prompt> prompts = cfg.limit() > 0 && cfg.limit() < all.size() ? all.subList(0, cfg.limit()) : all;
        if (ocr == null) {
            Set<Lang> langs = new LinkedHashSet<>();
            for (PromptFile.Prompt p : prompts) langs.add(p.lang());
            Path tessdata = TesseractOcr.locate(cfg.tessdata(), System.getenv("TESSDATA_PREFIX"), langs);
            ocr = () -> new TesseractOcr(tessdata, TesseractOcr.DEFAULT_PSM);
        }
        List<SampleRenderer.Prompt> drawn = new ArrayList<>();
        for (PromptFile.Prompt p : prompts) {
            // ids become file names (PromptFile has refused duplicates): refuse what cannot be one file in one folder
            if (p.id().isEmpty() || p.id().contains("/") || p.id().startsWith("."))
                throw new OvisException(cfg.prompts() + ": line " + p.line() + ": id \"" + p.id() + "\" cannot name an image file");
            drawn.add(new SampleRenderer.Prompt(p.id(), p.prompt()));
        }
        LearningCurve c = new LearningCurve(List.copyOf(prompts), renderers.apply(drawn), ocr, folder, cfg.every());
        Path csv = folder.root().resolve(CSV);
        if (resumedStep > 0 && Files.exists(csv)) c.rows.addAll(read(csv, resumedStep));
        return c;
    }

    private LearningCurve(List<PromptFile.Prompt> prompts, SampleRenderer renderer, Supplier<OcrEngine> ocr, RunFolder folder, long every) {
        this.prompts = prompts;
        this.renderer = renderer;
        this.ocr = ocr;
        this.folder = folder;
        this.every = every;
    }

    long every() { return every; }

    List<Row> rows() { return Collections.unmodifiableList(rows); }

    /** Scores the images {@code draw} writes for step {@code step} and records the row. */
    Row measure(long step, long samples, double trainSeconds, java.util.function.Function<SampleRenderer, List<Path>> draw) {
        draw.apply(renderer);
        Path dir = renderer.folder(step);
        Evaluator.Result r = Evaluator.run(dir, prompts, ocr, Runtime.getRuntime().availableProcessors());
        Report.write(r, dir.resolve("report"));
        Row row = new Row(step, samples, trainSeconds, r.overall().images(), r.overall().wordAccuracy(), r.overall().ned());
        rows.removeIf(old -> old.step() >= step);
        rows.add(row);
        Path csv = folder.root().resolve(CSV);
        try {
            folder.writeAtomically(csv, csv());
        } catch (IOException e) {
            throw new OvisException(csv + ": cannot write (" + e.getMessage() + ")");
        }
        LossPlot.writeLearningCurve(folder.root().resolve(PLOT), rows);
        return row;
    }

    String csv() {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        for (Row r : rows)
            b.append(r.step()).append(',').append(r.samples()).append(',').append(String.format(Locale.ROOT, "%.3f", r.trainSeconds()))
                    .append(',').append(r.images()).append(',').append(r.wordAccuracy()).append(',').append(r.ned()).append('\n');
        return b.toString();
    }

    /** The rows of a CSV written by {@link #csv}, up to and including step {@code last}. */
    static List<Row> read(Path file, long last) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new OvisException(file + ": cannot read (" + e.getMessage() + ")");
        }
        if (lines.isEmpty() || !lines.getFirst().equals(HEADER)) throw new OvisException(file + ": not a learning curve (header \"" + HEADER + "\")");
        List<Row> out = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",");
            try {
                if (f.length != 6) throw new NumberFormatException(f.length + " fields");
                Row r = new Row(Long.parseLong(f[0]), Long.parseLong(f[1]), Double.parseDouble(f[2]), Integer.parseInt(f[3]),
                        Double.parseDouble(f[4]), Double.parseDouble(f[5]));
                if (r.step() <= last) out.add(r);
            } catch (RuntimeException e) {
                throw new OvisException(file + ": line " + (i + 1) + " is not " + HEADER + " (" + e.getMessage() + ")");
            }
        }
        return out;
    }
}
