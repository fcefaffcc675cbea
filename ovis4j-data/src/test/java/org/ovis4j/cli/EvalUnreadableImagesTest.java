package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.json.Json;
import org.ovis4j.data.render.FontCatalog;
import org.ovis4j.data.render.Lang;
import org.ovis4j.data.render.Renderer;
import org.ovis4j.data.render.SampleGenerator;
import org.ovis4j.data.render.SampleSpec;
import org.ovis4j.data.render.TextItem;
import org.ovis4j.eval.cli.EvalCommand;

/**
 * Images that exist but cannot be decoded are recorded in the report with their reason, the others
 * are scored, and the exit code says that some failed, with one line on stderr.
 */
class EvalUnreadableImagesTest {
    @TempDir
    Path dir;

    @Test
    @SuppressWarnings("unchecked")
    void unreadableImagesAreReportedAndTheRestScored() throws Exception {
        Path images = Files.createDirectories(dir.resolve("images"));
        FontCatalog fonts = FontCatalog.system();
        SampleSpec en = new SampleGenerator(1001, List.of(Lang.EN), 512, 512, true, fonts).spec(0);
        SampleSpec zh = new SampleGenerator(2002, List.of(Lang.ZH), 512, 512, true, fonts).spec(0);
        ImageIO.write(Renderer.render(en).image(), "png", images.resolve("en.png").toFile());
        ImageIO.write(Renderer.render(zh).image(), "png", images.resolve("zh.png").toFile());
        byte[] png = Files.readAllBytes(images.resolve("en.png"));
        Files.write(images.resolve("truncated.png"), Arrays.copyOf(png, 200));
        Files.write(images.resolve("webp.png"), "RIFF\u0024\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1));
        Files.write(images.resolve("empty.jpg"), new byte[0]);
        StringBuilder prompts = new StringBuilder();
        prompt(prompts, "en", "a design", texts(en));
        prompt(prompts, "truncated", "a design", texts(en));
        prompt(prompts, "zh", "招牌上写着", texts(zh));
        prompt(prompts, "webp", "a sign that says \\\"OPEN\\\"", null);
        prompt(prompts, "empty", "a sign that says \\\"OPEN\\\"", null);
        Path promptFile = dir.resolve("prompts.jsonl");
        Files.writeString(promptFile, prompts, StandardCharsets.UTF_8);
        Path report = dir.resolve("report");

        CliErrorsTest.Run r = CliErrorsTest.run(new EvalCommand(), "text", "--images", images.toString(), "--prompts",
                promptFile.toString(), "--out", report.toString(), "--threads", "2");

        assertEquals(EvalCommand.SOME_FAILED, r.code(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "more than one line: " + err);
        assertTrue(err.startsWith("ovis4j: 3 of 5 images could not be read"), err);
        assertTrue(err.contains("truncated.png: damaged PNG"), err);
        assertTrue(r.out().startsWith("2 images:"), r.out());

        // The report is UTF-8 (decoding strictly fails on anything else) and lists every prompt in order.
        String json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(Files.readAllBytes(report.resolve("report.json")))).toString();
        Map<String, Object> m = (Map<String, Object>) Json.parse(json);
        assertEquals(2L, m.get("images"));
        assertEquals(3L, m.get("failed"));
        List<Map<String, Object>> results = (List<Map<String, Object>>) m.get("results");
        assertEquals(List.of("en", "truncated", "zh", "webp", "empty"), results.stream().map(e -> e.get("id")).toList());
        assertEquals("招牌上写着", results.get(2).get("prompt"));
        assertTrue(((String) results.get(1).get("error")).startsWith("damaged PNG: "), results.get(1).toString());
        assertEquals("WebP is not supported; convert it to PNG", results.get(3).get("error"));
        assertEquals("empty file", results.get(4).get("error"));
        for (int i : new int[] {0, 2}) {
            assertNull(results.get(i).get("error"));
            assertTrue(results.get(i).containsKey("region_scores") && results.get(i).containsKey("readings"), results.get(i).toString());
        }
        // The means are over the scored images only.
        double wa = (((Number) results.get(0).get("word_accuracy")).doubleValue() + ((Number) results.get(2).get("word_accuracy")).doubleValue()) / 2;
        assertEquals(wa, ((Number) m.get("word_accuracy")).doubleValue(), 1e-4);
        String md = Files.readString(report.resolve("report.md"), StandardCharsets.UTF_8);
        assertTrue(md.contains("## Images that could not be read") && md.contains("| webp | webp.png | WebP is not supported"), md);
        assertTrue(Files.isRegularFile(report.resolve("thumbs/en.png")));
        assertFalse(Files.exists(report.resolve("thumbs/webp.png")));
    }

    static List<String> texts(SampleSpec s) {
        return s.items().stream().map(TextItem::text).toList();
    }

    static void prompt(StringBuilder b, String id, String prompt, List<String> texts) {
        b.append("{\"id\": \"").append(id).append("\", \"prompt\": \"").append(prompt).append('"');
        if (texts != null) {
            b.append(", \"texts\": [");
            for (int i = 0; i < texts.size(); i++) b.append(i > 0 ? ", " : "").append(Json.write(texts.get(i), 0));
            b.append(']');
        }
        b.append("}\n");
    }
}
