package org.ovis4j.eval;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.ovis4j.core.OvisException;
import org.ovis4j.data.render.Lang;

/** Runs OCR over the images of a prompt file and scores each against its target texts. */
public final class Evaluator {
    private Evaluator() {}

    /**
     * One prompt's outcome: its readings and score, or, when its image could not be read, the
     * reason (readings empty, score null). Such images are reported and left out of the means.
     */
    public record ImageResult(PromptFile.Prompt prompt, Path image, List<OcrReading> readings, TextMetrics.Score score,
                              String error) {
        public static ImageResult failed(PromptFile.Prompt prompt, Path image, String error) {
            return new ImageResult(prompt, image, List.of(), null, error);
        }

        public boolean ok() {
            return error == null;
        }
    }

    /** Mean scores over a group of scored images (each image weighs the same). */
    public record Aggregate(int images, double wordAccuracy, double ned) {}

    /**
     * @param images every prompt in file order, the failed ones included
     * @param failed how many images could not be read
     */
    public record Result(String engine, List<ImageResult> images, Aggregate overall, Map<String, Aggregate> perLanguage,
                         Map<String, Aggregate> perRegionCount, int failed) {}

    /**
     * @param engines makes one engine per worker thread (engines need not be thread-safe)
     */
    public static Result run(Path imageDir, List<PromptFile.Prompt> prompts, Supplier<OcrEngine> engines, int threads) {
        if (!Files.isDirectory(imageDir)) throw new OvisException("image folder " + imageDir + " does not exist");
        List<Path> files = new ArrayList<>();
        for (PromptFile.Prompt p : prompts) {
            Path f = ImageLoader.find(imageDir, p.id());
            if (f == null) {
                throw new OvisException("no image for prompt '" + p.id() + "' (line " + p.line() + "): expected "
                        + imageDir.resolve(p.id() + ".png") + " or .jpg");
            }
            files.add(f);
        }
        int n = Math.max(1, Math.min(threads, prompts.size()));
        ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
            Thread t = new Thread(r, "ocr");
            t.setDaemon(true);
            return t;
        });
        ThreadLocal<OcrEngine> local = new ThreadLocal<>();
        List<OcrEngine> created = java.util.Collections.synchronizedList(new ArrayList<>());
        String[] engineName = new String[1];
        try {
            List<Future<ImageResult>> futures = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                PromptFile.Prompt p = prompts.get(i);
                Path f = files.get(i);
                futures.add(pool.submit(() -> {
                    OcrEngine e = local.get();
                    if (e == null) {
                        e = engines.get();
                        created.add(e);
                        local.set(e);
                        engineName[0] = e.name();
                    }
                    BufferedImage img;
                    try {
                        img = ImageLoader.read(f);
                    } catch (ImageLoader.UnreadableImageException u) {
                        // One bad file must not cost the rest of the run: it is reported with its reason.
                        return ImageResult.failed(p, f, u.reason());
                    }
                    List<OcrReading> readings = e.read(img, p.lang());
                    return new ImageResult(p, f, readings, TextMetrics.score(p.texts(), readings), null);
                }));
            }
            List<ImageResult> results = new ArrayList<>();
            for (Future<ImageResult> f : futures) results.add(get(f));
            return summarize(engineName[0], results);
        } finally {
            pool.shutdownNow();
            try {
                pool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            for (OcrEngine e : created) e.close();
        }
    }

    public static Result summarize(String engine, List<ImageResult> results) {
        Map<String, List<ImageResult>> byLang = new LinkedHashMap<>();
        for (Lang l : Lang.values()) byLang.put(l.code, new ArrayList<>());
        Map<Integer, List<ImageResult>> byCount = new TreeMap<>();
        List<ImageResult> scored = new ArrayList<>();
        for (ImageResult r : results) {
            if (!r.ok()) continue;
            scored.add(r);
            byLang.get(r.prompt().lang().code).add(r);
            byCount.computeIfAbsent(r.prompt().texts().size(), k -> new ArrayList<>()).add(r);
        }
        Map<String, Aggregate> perLang = new LinkedHashMap<>();
        byLang.forEach((k, v) -> {
            if (!v.isEmpty()) perLang.put(k, aggregate(v));
        });
        Map<String, Aggregate> perCount = new LinkedHashMap<>();
        byCount.forEach((k, v) -> perCount.put(Integer.toString(k), aggregate(v)));
        return new Result(engine, results, aggregate(scored), perLang, perCount, results.size() - scored.size());
    }

    static Aggregate aggregate(List<ImageResult> rs) {
        double wa = 0, ned = 0;
        for (ImageResult r : rs) {
            wa += r.score().wordAccuracy();
            ned += r.score().ned();
        }
        return new Aggregate(rs.size(), rs.isEmpty() ? 0 : wa / rs.size(), rs.isEmpty() ? 0 : ned / rs.size());
    }

    private static ImageResult get(Future<ImageResult> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OvisException("interrupted");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof OvisException oe) throw oe;
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        }
    }
}
