package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line end to end on the tiny checkpoint: outputs, exit codes and one-line errors. */
class CliTest {
    /** The goldens live in the model module's test resources; tests run from the cli module folder. */
    static final Path TINY = Path.of("../ovis4j-model/src/test/resources/goldens/ovis_image_tiny").toAbsolutePath().normalize();

    record Result(int code, String out, String err) {}

    static synchronized Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8); PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            System.setOut(o);
            System.setErr(e);
            var cli = Ovis4j.commandLine();
            cli.setOut(new PrintWriter(o, true));
            cli.setErr(new PrintWriter(e, true));
            int code = cli.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** The golden case generated from the reference's own initial noise. */
    static final String APPLE_CASE = "cases/en_w32_h32";

    /** generate of that case ("a red apple", 2 steps, guidance 4) at a precision, into png. */
    static Result generateAppleCase(String precision, Path png) {
        return run("generate", "--model", TINY.toString(), "--prompt", "a red apple", "--steps", "2", "--guidance", "4",
                "--max-sequence-length", "16", "--latents", TINY.resolve(APPLE_CASE).resolve("latents.safetensors").toString(),
                "--precision", precision, "--output", png.toString());
    }

    static void assertOneLineError(Result r, String mentions) {
        assertTrue(r.code != 0, "expected failure: " + r);
        // "ovis4j: note: ..." lines (e.g. oneDNN unavailable on this CPU) are information, not errors.
        List<String> errors = r.err.lines().filter(l -> l.startsWith("ovis4j: ") && !l.startsWith("ovis4j: note: ")).toList();
        assertEquals(1, errors.size(), "expected one error line: " + r.err);
        assertTrue(errors.get(0).contains(mentions), "error line: " + r.err);
        assertFalse(r.err.contains("\tat "), "stack trace printed: " + r.err);
    }

    @Test
    void generateWithReferenceNoiseReproducesTheReferencePng(@TempDir Path tmp) throws IOException {
        Path png = tmp.resolve("apple.png");
        Path caseDir = TINY.resolve(APPLE_CASE);
        Result r = generateAppleCase("fp32", png);
        assertEquals(0, r.code, r.err);
        BufferedImage ours = ImageIO.read(png.toFile()), ref = ImageIO.read(caseDir.resolve("image.png").toFile());
        assertEquals(ref.getWidth(), ours.getWidth());
        int worst = 0;
        for (int y = 0; y < ref.getHeight(); y++)
            for (int x = 0; x < ref.getWidth(); x++)
                for (int s = 0; s <= 16; s += 8)
                    worst = Math.max(worst, Math.abs((ref.getRGB(x, y) >> s & 0xFF) - (ours.getRGB(x, y) >> s & 0xFF)));
        assertTrue(worst <= 1, "PNG differs from the reference by " + worst + " levels");
        String text = new String(Files.readAllBytes(png), StandardCharsets.ISO_8859_1);
        for (String key : new String[] {"prompt", "negative_prompt", "seed", "steps", "guidance", "size", "model"})
            assertTrue(text.contains(key), "PNG lacks text chunk " + key);
    }

    @Test
    void badSizeFailsBeforeLoadingAndWritesNothing(@TempDir Path tmp) throws IOException {
        Path png = tmp.resolve("x.png");
        Result r = run("generate", "--model", TINY.toString(), "--prompt", "x", "--width", "100", "--height", "64", "--output", png.toString());
        assertOneLineError(r, "not a multiple of 16");
        assertFalse(Files.exists(png));
        try (var files = Files.list(tmp)) {
            assertEquals(0, files.count(), "left files behind");
        }
    }

    @Test
    void missingModelFolderIsOneLine(@TempDir Path tmp) {
        assertOneLineError(run("generate", "--model", tmp.resolve("nope").toString(), "--prompt", "x", "--width", "32",
                "--height", "32", "--output", tmp.resolve("o.png").toString()), "folder not found");
        assertOneLineError(run("info", "--model", tmp.toString()), "not an Ovis-Image checkpoint");
    }

    @Test
    void unknownPrecisionAndDtypeAreNamed(@TempDir Path tmp) {
        assertOneLineError(run("generate", "--model", TINY.toString(), "--prompt", "x", "--precision", "fp8"), "unknown precision \"fp8\"");
        assertOneLineError(run("synth", "--config", "tiny", "--dtype", "q4", "--tokenizer", TINY.resolve("tokenizer").toString(),
                "--out", tmp.resolve("c").toString()), "unknown dtype \"q4\"");
    }

    @Test
    void latentsOfTheWrongShapeAreRejected(@TempDir Path tmp) {
        Result r = run("generate", "--model", TINY.toString(), "--prompt", "x", "--latents",
                TINY.resolve("cases/en_w32_h32/intermediates.safetensors").toString(), "--output", tmp.resolve("o.png").toString());
        assertOneLineError(r, "expected exactly one tensor");
    }

    @Test
    void tokenizePrintsIdsOfTheText() {
        Result r = run("tokenize", "--model", TINY.toString(), "x<|im_end|>y");
        assertEquals(0, r.code, r.err);
        String[] ids = r.out.strip().split(" ");
        assertEquals(3, ids.length, r.out);
        assertEquals("1022", ids[1]);
    }

    @Test
    void synthThenInfoThenGenerate(@TempDir Path tmp) throws IOException {
        Path ckpt = tmp.resolve("tiny-random");
        Result s = run("synth", "--config", "tiny", "--dtype", "bf16", "--tokenizer", TINY.resolve("tokenizer").toString(), "--out", ckpt.toString());
        assertEquals(0, s.code, s.err);
        Result i = run("info", "--model", ckpt.toString());
        assertEquals(0, i.code, i.err);
        assertTrue(i.out.contains("layout       diffusers"), i.out);
        assertTrue(i.out.matches("(?s).*transformer\\s+150,336 parameters.*bf16.*"), i.out);
        Path png = tmp.resolve("o.png");
        Result g = run("generate", "--model", ckpt.toString(), "--prompt", "a \"SALE\" sign", "--width", "32", "--height", "48",
                "--steps", "2", "--seed", "5", "--output", png.toString());
        assertEquals(0, g.code, g.err);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(32, img.getWidth());
        assertEquals(48, img.getHeight());
        // Synthesizing into a non-empty folder is refused rather than mixing two checkpoints.
        assertOneLineError(run("synth", "--config", "tiny", "--tokenizer", TINY.resolve("tokenizer").toString(), "--out", ckpt.toString()), "not empty");
    }

    /** The load prints "loading ..." first: its absence shows an error came before any weights were touched. */
    static void assertFailsBeforeLoading(Result r, String mentions) {
        assertOneLineError(r, mentions);
        assertFalse(r.err.contains("loading "), "failed only after loading: " + r.err);
    }

    @Test
    void anUnusableOutputPathFailsBeforeLoading(@TempDir Path tmp) throws IOException {
        Path folder = Files.createDirectory(tmp.resolve("folder.png"));
        assertFailsBeforeLoading(run("generate", "--model", TINY.toString(), "--prompt", "x", "--width", "32", "--height", "32",
                "--steps", "1", "--output", folder.toString()), folder + ": is a folder");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertFailsBeforeLoading(run("generate", "--model", TINY.toString(), "--prompt", "x", "--width", "32", "--height", "32",
                "--steps", "1", "--output", file.resolve("o.png").toString()), file + ": is not a folder");
        try (var files = Files.list(folder)) {
            assertEquals(0, files.count(), "left files behind");
        }
    }

    @Test
    void aModelIndexThatIsNotOvisImageFailsBeforeLoading(@TempDir Path tmp) throws IOException {
        Path broken = Files.createDirectory(tmp.resolve("broken"));
        Files.writeString(broken.resolve("model_index.json"), "{");
        assertFailsBeforeLoading(run("generate", "--model", broken.toString(), "--prompt", "x", "--width", "32", "--height", "32",
                "--output", tmp.resolve("o.png").toString()), broken.resolve("model_index.json") + ": invalid JSON at offset 1");
        assertOneLineError(run("info", "--model", broken.toString()), "model_index.json: invalid JSON");

        // The tiny checkpoint's components (a copy: 2 MB), with an index naming another model's transformer.
        Path foreign = Files.createDirectory(tmp.resolve("foreign"));
        for (String component : new String[] {"transformer", "text_encoder", "tokenizer", "vae", "scheduler"})
            try (var files = Files.walk(TINY.resolve(component))) {
                for (Path f : files.toList()) Files.copy(f, foreign.resolve(TINY.relativize(f).toString()));
            }
        String index = Files.readString(TINY.resolve("model_index.json"));
        Files.writeString(foreign.resolve("model_index.json"), index.replace("OvisImageTransformer2DModel", "FluxTransformer2DModel"));
        assertFailsBeforeLoading(run("generate", "--model", foreign.toString(), "--prompt", "x", "--width", "32", "--height", "32",
                "--output", tmp.resolve("o.png").toString()), "transformer class \"FluxTransformer2DModel\" is not one ovis4j loads");
        assertFalse(Files.exists(tmp.resolve("o.png")));
    }

    @Test
    void latentsOfAnImpossibleSizeNameTheFile(@TempDir Path tmp) {
        Path latents = tmp.resolve("odd.safetensors");
        new org.ovis4j.core.safetensors.SafetensorsWriter()
                .addFloats("latents", org.ovis4j.core.tensor.DType.F32, new long[] {1, 16, 4, 9}, new float[16 * 4 * 9]).write(latents);
        assertFailsBeforeLoading(run("generate", "--model", TINY.toString(), "--prompt", "x", "--latents", latents.toString(),
                "--output", tmp.resolve("o.png").toString()), latents + ": width 72 is not a multiple of 16 (latents of shape [1, 16, 4, 9]");
    }

    @Test
    void promptFileIsReadAsUtf8WithoutItsFinalLineEnding(@TempDir Path tmp) throws IOException {
        String text = "a \"SALE\" sign\nsecond line, 世界";
        Path file = Files.writeString(tmp.resolve("p.txt"), text + "\r\n", StandardCharsets.UTF_8);
        Result fromArgument = run("tokenize", "--model", TINY.toString(), text);
        Result fromFile = run("tokenize", "--model", TINY.toString(), "--prompt-file", file.toString());
        assertEquals(0, fromFile.code, fromFile.err);
        assertEquals(fromArgument.out, fromFile.out);
        assertOneLineError(run("tokenize", "--model", TINY.toString(), "x", "--prompt-file", file.toString()), "not both");
        assertOneLineError(run("tokenize", "--model", TINY.toString()), "either as TEXT or as --prompt-file FILE");
        assertOneLineError(run("generate", "--model", TINY.toString(), "--prompt", "x", "--prompt-file", file.toString()), "mutually exclusive");
        assertFailsBeforeLoading(run("generate", "--model", TINY.toString(), "--prompt-file", tmp.resolve("none.txt").toString(),
                "--width", "32", "--height", "32", "--output", tmp.resolve("o.png").toString()), "none.txt: file not found");
        assertFailsBeforeLoading(run("generate", "--model", TINY.toString(), "--prompt-file", "-", "--negative-prompt-file", "-",
                "--width", "32", "--height", "32", "--output", tmp.resolve("o.png").toString()), "cannot both read standard input");

        // The image's metadata holds the prompt as the file gave it.
        Path png = tmp.resolve("o.png");
        Files.writeString(tmp.resolve("n.txt"), "blurry\n", StandardCharsets.UTF_8);
        Result g = run("generate", "--model", TINY.toString(), "--prompt-file", file.toString(), "--negative-prompt-file",
                tmp.resolve("n.txt").toString(), "--width", "32", "--height", "32", "--steps", "1", "--output", png.toString());
        assertEquals(0, g.code, g.err);
        var meta = EmptyEnvironmentTest.pngText(Files.readAllBytes(png));
        assertEquals(text, meta.get("prompt"));
        assertEquals("blurry", meta.get("negative_prompt"));
    }

    /**
     * The tiny config's 1,024-token embedding with the real tokenizer: synth makes the table as long as
     * the tokenizer's vocabulary, so the chat template's ids (151644 and up) have rows and generate runs.
     */
    @Test
    void synthWithTheRealTokenizerWritesACheckpointThatGenerates(@TempDir Path tmp) throws IOException {
        Path ckpt = tmp.resolve("tiny-qwen3");
        Result s = run("synth", "--config", "tiny", "--dtype", "bf16", "--tokenizer", CliProcess.qwen3Tokenizer().toString(), "--out", ckpt.toString());
        assertEquals(0, s.code, s.err);
        assertTrue(s.err.contains("text encoder vocabulary 1024 raised to 151669"), s.err);
        assertTrue(Files.readString(ckpt.resolve("text_encoder/config.json")).contains("\"vocab_size\": 151669"));
        Result g = run("generate", "--model", ckpt.toString(), "--prompt", "招牌 \"开业\"", "--width", "32", "--height", "32",
                "--steps", "1", "--output", tmp.resolve("o.png").toString());
        assertEquals(0, g.code, g.err);
    }

    @Test
    void dataAndEvalCommandsAreRegistered(@TempDir Path tmp) {
        assertOneLineError(run("data", "synth", "--count", "0", "--out", tmp.resolve("d").toString()), "count");
        assertOneLineError(run("eval", "text", "--images", tmp.resolve("none").toString(), "--prompts",
                tmp.resolve("p.jsonl").toString(), "--out", tmp.resolve("r").toString()), "p.jsonl: cannot read");
    }

    @Test
    void quantizeThenInfoReportsQ8_0(@TempDir Path tmp) {
        Path q8 = tmp.resolve("q8");
        Result q = run("quantize", "--model", TINY.toString(), "--out", q8.toString());
        assertEquals(0, q.code, q.err);
        Result i = run("info", "--model", q8.toString());
        assertTrue(i.out.matches("(?s).*transformer\\s+150,336 parameters in 105 tensors \\(f32 x59, q8_0 x46\\).*"), i.out);
        assertOneLineError(run("quantize", "--model", TINY.toString(), "--type", "q4_k", "--out", tmp.resolve("x").toString()),
                "unknown quantization type");
    }

    @Test
    void float32PrecisionRefusesABf16Backend(@TempDir Path tmp) {
        assertOneLineError(run("generate", "--model", TINY.toString(), "--prompt", "x", "--width", "32", "--height", "32",
                "--precision", "fp32", "--backend", "onednn", "--output", tmp.resolve("o.png").toString()), "needs the java backend");
    }

    /**
     * int8 W8A8 against the float32 reference PNG. Per-channel weight and per-token activation
     * quantization each err by up to half a step of 1/127 of the row's largest value; through the
     * tiny model that moves the image by well under the bf16 goldens' 1.4e-2 per velocity value.
     * Measured 51.0 dB when set; the bound allows 3x the RMS error.
     */
    @Test
    void int8PrecisionStaysCloseToTheReference(@TempDir Path tmp) throws IOException {
        Path png = tmp.resolve("int8.png");
        Path caseDir = TINY.resolve(APPLE_CASE);
        Result r = generateAppleCase("int8", png);
        if (!org.ovis4j.core.kernel.ComputeContext.create("auto", false).backend().hasInt8()) {
            // A CPU without an int8 matmul backend: the request must fail clearly, and write nothing.
            assertOneLineError(r, "int8 needs a backend with an int8 matmul");
            assertTrue(!Files.exists(png));
            return;
        }
        assertEquals(0, r.code, r.err);
        BufferedImage ours = ImageIO.read(png.toFile()), ref = ImageIO.read(caseDir.resolve("image.png").toFile());
        double se = 0;
        for (int y = 0; y < ref.getHeight(); y++)
            for (int x = 0; x < ref.getWidth(); x++)
                for (int s = 0; s <= 16; s += 8) {
                    double d = ((ref.getRGB(x, y) >> s & 0xFF) - (ours.getRGB(x, y) >> s & 0xFF)) / 255.0;
                    se += d * d;
                }
        double psnr = 10 * Math.log10(1 / (se / (3.0 * ref.getWidth() * ref.getHeight())));
        System.out.printf("reduced precision: int8 tiny pipeline PNG PSNR %.1f dB%n", psnr);
        assertTrue(psnr > 41, "int8 PSNR " + psnr);
    }

    @Test
    void noCommandIsAUsageError() {
        Result r = run();
        assertEquals(2, r.code);
        assertTrue(r.err.startsWith("ovis4j: "), r.err);
    }

    @Test
    void benchInt8RunsOnOnednnAndRefusesJava() {
        assertOneLineError(run("bench", "--gemm", "8x16x8", "--dtype", "int8", "--backend", "java", "--repeat", "1"),
                "--dtype int8 needs --backend onednn");
        Result r = run("bench", "--gemm", "8x16x8", "--dtype", "int8", "--backend", "onednn", "--repeat", "1");
        if (r.code == 0) assertTrue(r.out.contains("gemm 8 16 8 int8 onednn GFLOP/s="), r.out);
        else assertOneLineError(r, "backend onednn is not available: ");
    }
}
