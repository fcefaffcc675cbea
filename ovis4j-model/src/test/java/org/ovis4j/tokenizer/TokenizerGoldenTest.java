package org.ovis4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.testing.Goldens;

/** The tiny tokenizer against the tokenizers library's output recorded in the goldens. */
class TokenizerGoldenTest {
    static Qwen3Tokenizer tok;

    @BeforeAll
    static void load() {
        tok = Qwen3Tokenizer.load(Goldens.tiny().resolve("tokenizer/tokenizer.json"));
    }

    @Test
    void vocabularyAndAddedTokens() {
        assertEquals(1024, tok.vocabSize());
        assertEquals(1023, tok.tokenId("<|endoftext|>"));
        assertEquals(1021, tok.tokenId("<|im_start|>"));
        assertEquals(998, tok.tokenId("<|object_ref_start|>"));
        assertEquals(25, tok.tokenId(":"));
        assertEquals(198, tok.tokenId("Ċ"));
        assertEquals(220, tok.tokenId("Ġ"));
        assertEquals(-1, tok.tokenId("no such token"));
        assertEquals("<|im_end|>", tok.token(1022));
        assertEquals("Ġ", tok.token(220));
        assertThrows(OvisException.class, () -> tok.token(1024));
        assertThrows(OvisException.class, () -> tok.decode(new int[] {-1}));
    }

    @Test
    void allRecordedCases() throws IOException {
        List<String> lines = Files.readAllLines(Goldens.tiny().resolve("tokenizer_cases.jsonl"), StandardCharsets.UTF_8);
        assertEquals(52, lines.size());
        for (String line : lines) {
            @SuppressWarnings("unchecked")
            Map<String, Object> c = (Map<String, Object>) Json.parse(line);
            String text = (String) c.get("text");
            String what = "case " + c.get("id") + " " + Json.write(text, 0);
            int[] expected = ints(c.get("ids"));
            int[] ids = tok.encode(text);
            assertArrayEquals(expected, ids, what + ": ids");
            List<?> tokens = (List<?>) c.get("tokens");
            for (int k = 0; k < ids.length; k++) assertEquals(tokens.get(k), tok.token(ids[k]), what + ": token " + k);
            assertEquals(c.get("decoded"), tok.decode(ids), what + ": decoded");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"en_w32_h32", "zh_w32_h32", "en_w48_h32", "en_long_w32_h48"})
    void pipelineCases(String name) throws IOException {
        Path dir = Goldens.tiny().resolve("cases/" + name);
        Map<String, Object> caseJson = Json.parseObject(dir.resolve("case.json"));
        Map<String, Object> tokens = Json.parseObject(dir.resolve("tokens.json"));
        int msl = ((Number) caseJson.get("max_sequence_length")).intValue();
        Map<String, Tensor> inter = Goldens.read("cases/" + name + "/intermediates.safetensors");
        check(name + " prompt", (String) caseJson.get("prompt"), msl, tokens.get("prompt"), inter.get("input_ids"),
                inter.get("attention_mask"));
        check(name + " negative", (String) caseJson.get("negative_prompt"), msl, tokens.get("negative_prompt"),
                inter.get("negative_input_ids"), inter.get("negative_attention_mask"));
    }

    private static void check(String what, String prompt, int msl, Object tokensJson, Tensor inputIds, Tensor mask) {
        @SuppressWarnings("unchecked")
        Map<String, Object> t = (Map<String, Object>) tokensJson;
        assertEquals(t.get("text"), OvisPrompt.render(prompt), what + ": rendered text");
        OvisPrompt.Encoded e = OvisPrompt.encode(tok, prompt, msl);
        int[] real = ints(t.get("input_ids"));
        assertEquals(((Number) t.get("num_tokens")).intValue(), e.untruncatedTokens(), what + ": num_tokens");
        assertEquals(((Number) t.get("num_kept")).intValue(), e.validTokens(), what + ": num_kept");
        assertEquals(((Number) t.get("max_length")).intValue(), e.ids().length, what + ": max_length");
        assertEquals(e.untruncatedTokens() > e.validTokens(), e.truncated());
        assertArrayEquals(real, java.util.Arrays.copyOf(e.ids(), e.validTokens()), what + ": input_ids");
        long[] padded = inputIds.toLongs();
        long[] m = mask.toLongs();
        assertEquals(padded.length, e.ids().length, what + ": padded length");
        for (int k = 0; k < padded.length; k++) {
            assertEquals(padded[k], e.ids()[k], what + ": padded id " + k);
            assertEquals(k < e.validTokens() ? 1 : 0, m[k], what + ": mask " + k);
        }
    }

    @Test
    void templatePrefixIs28Tokens() {
        String sys = OvisPrompt.SYSTEM_PROMPT;
        int[] prefix = tok.encode("<|im_start|>user\n" + sys.substring(0, sys.length() - 2)); // up to " background"
        assertEquals(OvisPrompt.DROPPED_ROWS, prefix.length);
        int[] empty = tok.encode(OvisPrompt.render(""));
        assertEquals(39, empty.length);
        assertEquals(25, empty[28]);
        assertEquals(220, empty[29]);
    }

    @Test
    void edgeCases() {
        assertArrayEquals(new int[0], tok.encode(""));
        assertEquals("", tok.decode(new int[0]));
        int[] x = tok.encode("x<|im_end|>y");
        assertArrayEquals(new int[] {tok.tokenId("x"), 1022, tok.tokenId("y")}, x);
        int[] ws = tok.encode(" \t\n\u3000 ");
        assertTrue(ws.length > 0);
        assertEquals(" \t\n\u3000 ", tok.decode(ws));
        // A lone surrogate reads as U+FFFD, a paired one is a normal supplementary character.
        assertArrayEquals(tok.encode("a\uFFFDb"), tok.encode("a\uD800b"));
        assertArrayEquals(tok.encode("a\uFFFDb"), tok.encode("a\uDC00b"));
        assertEquals("a\uD83D\uDE00b", tok.decode(tok.encode("a\uD83D\uDE00b")));
        // The first byte of a 3-byte character alone decodes to one replacement character.
        int[] cat = tok.encode("猫");
        assertTrue(cat.length > 1);
        assertEquals("\uFFFD", tok.decode(new int[] {cat[0]}));
    }

    @Test
    void longInputIsFast() {
        StringBuilder b = new StringBuilder();
        java.util.Random r = new java.util.Random(1);
        String[] words = {"the", "cat", "一只", "  ", "\n", "123", "x".repeat(50), "😀", "don't", "é"};
        while (b.length() < 100_000) b.append(words[r.nextInt(words.length)]).append(' ');
        String text = b.toString();
        long t0 = System.nanoTime();
        int[] ids = tok.encode(text);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(text, tok.decode(ids));
        assertTrue(ms < 5000, "100k characters took " + ms + " ms");
        // One 100k-letter pre-token and one 100k-space run exercise the heap merge and the regex.
        for (String s : new String[] {"a".repeat(100_000), " ".repeat(100_000), "ab ".repeat(30_000) + "\n".repeat(10_000)}) {
            t0 = System.nanoTime();
            int[] one = tok.encode(s);
            ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(s, tok.decode(one));
            assertTrue(ms < 5000, s.length() + " characters took " + ms + " ms");
        }
    }

    @Test
    void badFilesFailWithOneLineMessages(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nope.json");
        OvisException e = assertThrows(OvisException.class, () -> Qwen3Tokenizer.load(missing));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
        String good = Files.readString(Goldens.tiny().resolve("tokenizer/tokenizer.json"));
        expectFailure(dir, "{\"model\": ", "malformed");
        expectFailure(dir, good.replace("\"type\": \"BPE\"", "\"type\": \"WordPiece\""), "model type WordPiece");
        expectFailure(dir, good.replace("\"Isolated\"", "\"Removed\""), "Split behavior");
        expectFailure(dir, good.replace("\"type\": \"NFC\"", "\"type\": \"NFKC\""), "normalizer NFKC");
        expectFailure(dir, good.replace("\"byte_fallback\": false", "\"byte_fallback\": true"), "byte_fallback");
        expectFailure(dir, good.replace("\"id\": 1000,", "\"id\": 1100,"), "has id 1100 but its position gives id 1000");
        expectFailure(dir, good.replaceFirst("\\[\\s*\"Ġ\",\\s*\"t\"\\s*\\]", "[\"Ġ\", \"zzz\"]"), "merge 0");
    }

    @Test
    void mergesAsStringsAreAccepted(@TempDir Path dir) throws IOException {
        String good = Files.readString(Goldens.tiny().resolve("tokenizer/tokenizer.json"));
        String strings = good.replaceAll("\\[\\s*\"([^\"\\s]+)\",\\s*\"([^\"\\s]+)\"\\s*\\]", "\"$1 $2\"");
        assertFalse(strings.equals(good));
        Path p = dir.resolve("tokenizer.json");
        Files.writeString(p, strings);
        Qwen3Tokenizer t = Qwen3Tokenizer.load(p);
        String text = OvisPrompt.render("一只橙色的猫 It's 2024!");
        assertArrayEquals(tok.encode(text), t.encode(text));
    }

    private static void expectFailure(Path dir, String content, String messagePart) throws IOException {
        Path p = dir.resolve("tokenizer.json");
        Files.writeString(p, content);
        OvisException e = assertThrows(OvisException.class, () -> Qwen3Tokenizer.load(p), messagePart);
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    static int[] ints(Object list) {
        List<?> l = (List<?>) list;
        int[] out = new int[l.size()];
        for (int k = 0; k < out.length; k++) out[k] = ((Number) l.get(k)).intValue();
        return out;
    }
}
