package org.ovis4j.eval;

import org.ovis4j.core.io.FileTrees;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;

/**
 * Writes report.json (machine-readable; the overall scores at top level) and report.md (for people:
 * summary tables, then every prompt with a thumbnail, worst first). Everything is written into a
 * temporary folder beside the output and moved into place at the end, so an interrupted run leaves
 * no half report.
 */
public final class Report {
    private Report() {}

    public static final String NED_NOTE = "ned = 1 - normalized Levenshtein distance (higher is better); "
            + "word_accuracy and ned are means over the images that could be read (failed ones carry an error); "
            + "definitions in docs/evaluation.md";

    public static Map<String, Object> json(Evaluator.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("engine", r.engine());
        m.put("images", (long) r.overall().images());
        m.put("failed", (long) r.failed());
        m.put("word_accuracy", round(r.overall().wordAccuracy()));
        m.put("ned", round(r.overall().ned()));
        m.put("note", NED_NOTE);
        m.put("per_language", groups(r.perLanguage()));
        m.put("per_region_count", groups(r.perRegionCount()));
        List<Object> items = new ArrayList<>();
        for (Evaluator.ImageResult ir : r.images()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("id", ir.prompt().id());
            e.put("image", ir.image().getFileName().toString());
            e.put("lang", ir.prompt().lang().code);
            e.put("prompt", ir.prompt().prompt());
            e.put("texts", new ArrayList<Object>(ir.prompt().texts()));
            e.put("regions", (long) ir.prompt().texts().size());
            if (!ir.ok()) {
                e.put("error", ir.error());
                items.add(e);
                continue;
            }
            e.put("word_accuracy", round(ir.score().wordAccuracy()));
            e.put("ned", round(ir.score().ned()));
            e.put("matched_words", (long) ir.score().matchedWords());
            e.put("target_words", (long) ir.score().targetWords());
            List<Object> regions = new ArrayList<>();
            for (TextMetrics.Region reg : ir.score().regions()) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("text", reg.text());
                o.put("normalized", reg.normalized());
                o.put("words", (long) reg.words());
                o.put("matched_words", (long) reg.matchedWords());
                o.put("edit_distance", (long) reg.distance());
                o.put("ned", round(reg.ned()));
                o.put("reading", reg.reading());
                o.put("matched", reg.matched());
                regions.add(o);
            }
            e.put("region_scores", regions);
            List<Object> readings = new ArrayList<>();
            for (OcrReading rd : ir.readings()) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("name", rd.name());
                o.put("text", rd.text());
                readings.add(o);
            }
            e.put("readings", readings);
            items.add(e);
        }
        m.put("results", items);
        return m;
    }

    private static Map<String, Object> groups(Map<String, Evaluator.Aggregate> g) {
        Map<String, Object> out = new LinkedHashMap<>();
        g.forEach((k, a) -> {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("images", (long) a.images());
            o.put("word_accuracy", round(a.wordAccuracy()));
            o.put("ned", round(a.ned()));
            out.put(k, o);
        });
        return out;
    }

    static double round(double v) {
        return Math.round(v * 10000) / 10000.0;
    }

    /** Scored images worst first: by the sum of the two scores, then by id for a stable order. */
    static List<Evaluator.ImageResult> worstFirst(List<Evaluator.ImageResult> rs) {
        List<Evaluator.ImageResult> s = new ArrayList<>();
        for (Evaluator.ImageResult r : rs) if (r.ok()) s.add(r);
        s.sort(Comparator.comparingDouble((Evaluator.ImageResult r) -> r.score().wordAccuracy() + r.score().ned())
                .thenComparing(r -> r.prompt().id()));
        return s;
    }

    public static String markdown(Evaluator.Result r) {
        StringBuilder b = new StringBuilder("# Text rendering evaluation\n\n");
        b.append("Engine: ").append(r.engine()).append(". ").append(r.overall().images()).append(" images scored");
        if (r.failed() > 0) b.append(", ").append(r.failed()).append(" could not be read (below)");
        b.append(". NED is reported as 1 − normalised edit distance: higher is better.\n\n");
        b.append("| group | images | word accuracy | NED |\n|---|---:|---:|---:|\n");
        row(b, "**all**", r.overall());
        r.perLanguage().forEach((k, a) -> row(b, "lang " + k, a));
        r.perRegionCount().forEach((k, a) -> row(b, k + (k.equals("1") ? " region" : " regions"), a));
        if (r.failed() > 0) {
            b.append("\n## Images that could not be read\n\n| id | image | reason |\n|---|---|---|\n");
            for (Evaluator.ImageResult ir : r.images()) {
                if (ir.ok()) continue;
                b.append("| ").append(cell(ir.prompt().id())).append(" | ").append(cell(ir.image().getFileName().toString()))
                        .append(" | ").append(cell(ir.error())).append(" |\n");
            }
        }
        b.append("\n## Per prompt, worst first\n\n");
        b.append("| image | id | lang | word acc. | NED | target texts | matched OCR words (reading) |\n|---|---|---|---:|---:|---|---|\n");
        for (Evaluator.ImageResult ir : worstFirst(r.images())) {
            String id = ir.prompt().id();
            List<String> matched = new ArrayList<>();
            for (TextMetrics.Region reg : ir.score().regions()) {
                matched.add(reg.matched() == null ? "—" : reg.matched() + " (" + reg.reading() + ")");
            }
            b.append("| ![](thumbs/").append(thumbName(id)).append(") | ").append(cell(id)).append(" | ")
                    .append(ir.prompt().lang().code).append(" | ")
                    .append(String.format(Locale.ROOT, "%.3f", ir.score().wordAccuracy())).append(" | ")
                    .append(String.format(Locale.ROOT, "%.3f", ir.score().ned())).append(" | ")
                    .append(cell(String.join(" / ", ir.prompt().texts()))).append(" | ")
                    .append(cell(String.join(" / ", matched))).append(" |\n");
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String name, Evaluator.Aggregate a) {
        b.append("| ").append(name).append(" | ").append(a.images()).append(" | ")
                .append(String.format(Locale.ROOT, "%.4f", a.wordAccuracy())).append(" | ")
                .append(String.format(Locale.ROOT, "%.4f", a.ned())).append(" |\n");
    }

    /** Table cells cannot hold newlines or bare pipes. */
    private static String cell(String s) {
        return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", " ⏎ ");
    }

    static String thumbName(String id) {
        return id.replaceAll("[^A-Za-z0-9._-]", "_") + ".png";
    }

    public static void write(Evaluator.Result r, Path out) {
        Path target = out.toAbsolutePath().normalize();
        if (Files.isRegularFile(target)) throw new OvisException(target + " is a file; --out must name a folder");
        Path tmp;
        try {
            Files.createDirectories(target.getParent());
            tmp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".partial-");
        } catch (IOException e) {
            throw new OvisException("cannot create the report folder " + target + " (" + e.getMessage() + ")");
        }
        try {
            Path thumbs = Files.createDirectories(tmp.resolve("thumbs"));
            for (Evaluator.ImageResult ir : r.images()) {
                if (!ir.ok()) continue;
                ImageIO.write(thumbnail(ImageLoader.read(ir.image()), 160), "png", thumbs.resolve(thumbName(ir.prompt().id())).toFile());
            }
            Files.writeString(tmp.resolve("report.md"), markdown(r), StandardCharsets.UTF_8);
            Files.writeString(tmp.resolve("report.json"), Json.write(json(r), 2) + "\n", StandardCharsets.UTF_8);
            Files.createDirectories(target);
            // Replace the previous report's pieces; report.json goes last so its presence means "complete".
            replace(tmp.resolve("thumbs"), target.resolve("thumbs"));
            replace(tmp.resolve("report.md"), target.resolve("report.md"));
            replace(tmp.resolve("report.json"), target.resolve("report.json"));
        } catch (IOException e) {
            throw new OvisException("cannot write the report in " + target + " (" + e.getMessage() + ")");
        } finally {
            FileTrees.deleteQuietly(tmp);
        }
    }

    private static void replace(Path from, Path to) throws IOException {
        if (Files.isDirectory(to)) FileTrees.deleteQuietly(to);
        Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static BufferedImage thumbnail(BufferedImage src, int max) {
        double s = Math.min(1.0, (double) max / Math.max(src.getWidth(), src.getHeight()));
        int w = Math.max(1, (int) Math.round(src.getWidth() * s)), h = Math.max(1, (int) Math.round(src.getHeight() * s));
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(src, 0, 0, w, h, null);
        g.dispose();
        return out;
    }

}
