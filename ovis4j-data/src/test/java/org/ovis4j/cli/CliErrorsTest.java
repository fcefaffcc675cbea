package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.data.cli.DataCommand;
import org.ovis4j.eval.cli.EvalCommand;
import picocli.CommandLine;

/** Bad input gives exit code 1 and one line "ovis4j: ..." on stderr, and leaves no output behind. */
class CliErrorsTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static Run run(Object command, String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = new CommandLine(command).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static void oneLineError(Run r, String expected) {
        assertEquals(1, r.code(), "exit code; stderr: " + r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "more than one line: " + err);
        assertTrue(err.startsWith("ovis4j: "), err);
        assertTrue(err.contains(expected), "expected '" + expected + "' in: " + err);
        assertFalse(err.contains("Exception"), err);
    }

    private Run synth(String... extra) {
        String[] base = {"synth", "--out", dir.resolve("shards").toString()};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return run(new DataCommand(), args);
    }

    @Test
    void synthRejectsBadArgumentsWithoutWritingAnything() throws Exception {
        oneLineError(synth("--count", "0"), "--count must be at least 1");
        oneLineError(synth("--count", "-3"), "--count must be at least 1");
        oneLineError(synth("--count", "2", "--lang", "en,fr"), "unknown language 'fr'");
        oneLineError(synth("--count", "2", "--lang", ""), "--lang is empty");
        oneLineError(synth("--count", "2", "--width", "10"), "between 64 and 4096");
        assertFalse(Files.exists(dir.resolve("shards")));
        Files.createDirectories(dir.resolve("shards"));
        Files.writeString(dir.resolve("shards/keep.txt"), "mine");
        oneLineError(synth("--count", "2"), "already exists and is not empty");
        assertEquals(List.of(dir.resolve("shards/keep.txt")), Files.list(dir.resolve("shards")).toList());
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains("partial")), "temporary folder left behind");
        }
    }

    @Test
    void synthWritesAndReports() {
        Run r = synth("--count", "3", "--width", "128", "--height", "128", "--seed", "5");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("wrote 3 samples"), r.out());
        assertTrue(Files.isRegularFile(dir.resolve("shards/manifest.json")));
    }

    @Test
    void evalRejectsBadInputWithoutWritingAReport() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path prompts = dir.resolve("p.jsonl");
        Path report = dir.resolve("report");
        String[] args = {"text", "--images", images.toString(), "--prompts", prompts.toString(), "--out", report.toString()};

        Files.writeString(prompts, "{\"id\": \"a\", \"prompt\": \"a sign saying \\\"OPEN\\\"\"}\n{\"id\": \"b\", \"prompt\": \"a sign with no text in quotes\"}\n");
        oneLineError(run(new EvalCommand(), args), "p.jsonl:2: prompt b has no quoted text");

        Files.writeString(prompts, "{\"id\": \"a\", \"prompt\": \"a sign saying \\\"OPEN\\\"\"}\n");
        oneLineError(run(new EvalCommand(), args), "no image for prompt 'a'");

        // (An image that exists but cannot be decoded is reported, not fatal: EvalUnreadableImagesTest.)

        String[] noData = {"text", "--images", images.toString(), "--prompts", prompts.toString(), "--out", report.toString(),
                "--tessdata", dir.resolve("nowhere").toString()};
        oneLineError(run(new EvalCommand(), noData), "does not exist");
        Path onlyEng = Files.createDirectories(dir.resolve("tessdata"));
        Files.writeString(prompts, "{\"id\": \"a\", \"prompt\": \"写着“营业中”\"}\n");
        String[] noChinese = {"text", "--images", images.toString(), "--prompts", prompts.toString(), "--out", report.toString(),
                "--tessdata", onlyEng.toString()};
        oneLineError(run(new EvalCommand(), noChinese), "no chi_sim.traineddata in " + onlyEng + " (from --tessdata); install tesseract-ocr-chi-sim");

        oneLineError(run(new EvalCommand(), "text", "--images", images.toString(), "--prompts", dir.resolve("missing.jsonl").toString(),
                "--out", report.toString()), "missing.jsonl: cannot read (no such file)");
        assertFalse(Files.exists(report), "a failed run left a report folder");
    }
}
