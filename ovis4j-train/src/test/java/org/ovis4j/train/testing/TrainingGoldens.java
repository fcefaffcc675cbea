package org.ovis4j.train.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.tensor.Tensor;

/**
 * The training vectors of the tiny reference model (shared/goldens/ovis_image_tiny/training, copied
 * into the test resources with the tiny transformer and VAE weights they were computed with), and the
 * comparison rule of that folder's README, section 9.9: per tensor, max|a − b| ≤ tol · scale, where
 * scale is the largest |reference| value of the tensor and, for gradients, at least 1e-2 times the
 * largest parameter gradient of the file (a gradient that is tiny everywhere is compared against the
 * file's gradient scale, not against its own rounding noise).
 */
public final class TrainingGoldens {
    private TrainingGoldens() {}

    private static Path resource(String relative) {
        try {
            return Path.of(TrainingGoldens.class.getResource("/goldens/" + relative).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource goldens/" + relative + " not found", e);
        }
    }

    /** The tiny checkpoint's folder holding transformer/ and vae/ (diffusers layout). */
    public static Path tinyModel() {
        return resource("ovis_image_tiny/transformer/config.json").getParent().getParent();
    }

    /**
     * A copy of the tiny checkpoint's components in {@code dir} (1.7 MB), for runs whose checkpoints link to
     * their base model: links that stay inside a test's temporary folder are removed with it quietly.
     */
    public static Path copyTinyModel(Path dir) {
        Path from = tinyModel();
        try {
            java.nio.file.Files.createDirectories(dir);
            for (String c : new String[] {"model_index.json", "scheduler", "text_encoder", "tokenizer", "transformer", "vae"}) {
                Path src = from.resolve(c);
                try (var files = java.nio.file.Files.walk(src)) {
                    for (Path p : files.toList()) {
                        Path q = dir.resolve(from.relativize(p).toString());
                        if (java.nio.file.Files.isDirectory(p)) java.nio.file.Files.createDirectories(q);
                        else java.nio.file.Files.copy(p, q, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return dir;
    }

    /** A file of training/ by name, e.g. "flow_matching.safetensors". */
    public static Path trainingFile(String name) {
        return resource("training/" + name);
    }

    /** Tensors of training/NAME, mapped for the life of the JVM. */
    public static Map<String, Tensor> read(String name) {
        return SafetensorsFile.read(trainingFile(name), Arena.ofAuto()).tensors();
    }

    public static Tensor tensor(Map<String, Tensor> file, String name) {
        Tensor t = file.get(name);
        if (t == null) throw new IllegalArgumentException("golden tensor " + name + " not found");
        return t;
    }

    public static float[] floats(Map<String, Tensor> file, String name) {
        return tensor(file, name).toFloats();
    }

    /** Largest |value| over every tensor whose name starts with {@code prefix} (e.g. the parameter gradients). */
    public static double maxAbs(Map<String, Tensor> file, String prefix) {
        double m = 0;
        for (var e : file.entrySet())
            if (e.getKey().startsWith(prefix))
                for (float v : e.getValue().toFloats()) m = Math.max(m, Math.abs(v));
        return m;
    }

    public static double maxAbs(float[] x) {
        double m = 0;
        for (float v : x) m = Math.max(m, Math.abs(v));
        return m;
    }

    /**
     * Asserts max|actual − expected| ≤ tol · max(max|expected|, floor) and returns the relative error
     * reached (max difference / scale), so tests can report how far inside the bound they are.
     */
    public static double assertScaled(String what, float[] expected, float[] actual, double tol, double floor) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = Math.max(maxAbs(expected), floor), worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            if (!Float.isFinite(actual[i])) fail(what + ": " + actual[i] + " at element " + i);
            double d = Math.abs((double) actual[i] - expected[i]);
            if (d > worst) {
                worst = d;
                at = i;
            }
        }
        if (worst > tol * scale)
            fail(String.format("%s: element %d is %.7g, expected %.7g (max diff %.3g = %.3g of scale %.3g; tolerance %.1g)",
                    what, at, actual[at], expected[at], worst, worst / scale, scale, tol));
        return worst / scale;
    }

    /** Asserts |actual − expected| ≤ rel · |expected| for a scalar. */
    public static void assertRelative(String what, double expected, double actual, double rel) {
        if (!(Math.abs(actual - expected) <= rel * Math.abs(expected)))
            fail(String.format("%s: %.9g, expected %.9g (relative tolerance %.1g)", what, actual, expected, rel));
    }
}
