package org.ovis4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.json.Json;
import org.ovis4j.testing.Goldens;

/**
 * The real Qwen3 tokenizer against the Rust tokenizers library (through DJL's JNI binding, natives
 * bundled in its jar) on a generated corpus. The tokenizer file is fetched by
 * {@code scripts/fetch-qwen3-tokenizer.sh}; without it this test fails rather than skips, so that a
 * CI run cannot pass without having compared anything.
 */
class TokenizerQwen3Test {
    static final String PROPERTY = "ovis4j.qwen3.tokenizer";
    static final int GENERATED = 3000;

    static Path file;
    static Qwen3Tokenizer tok;
    static HuggingFaceTokenizer oracle;

    @BeforeAll
    static void load() throws IOException {
        file = locate();
        tok = Qwen3Tokenizer.load(file);
        oracle = HuggingFaceTokenizer.builder().optTokenizerPath(file).optAddSpecialTokens(false)
                .optTruncation(false).optPadding(false).build();
    }

    @AfterAll
    static void close() {
        if (oracle != null) oracle.close();
    }

    static Path locate() {
        String prop = System.getProperty(PROPERTY);
        Path p;
        if (prop != null && !prop.isBlank()) p = Path.of(prop);
        else {
            Path dir = Path.of("").toAbsolutePath();
            while (dir != null && !Files.exists(dir.resolve("mvnw"))) dir = dir.getParent();
            p = (dir == null ? Path.of("") : dir).resolve(".cache/qwen3-tokenizer/tokenizer.json");
        }
        if (!Files.isRegularFile(p))
            fail("Qwen3 tokenizer.json not found at " + p + ": run scripts/fetch-qwen3-tokenizer.sh (or set -D"
                    + PROPERTY + "=<path>)");
        return p;
    }

    static int[] oracleIds(String text) {
        long[] ids = oracle.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int k = 0; k < ids.length; k++) out[k] = Math.toIntExact(ids[k]);
        return out;
    }

    static String oracleDecode(int[] ids) {
        return oracle.decode(Arrays.stream(ids).asLongStream().toArray(), false);
    }

    @Test
    void vocabulary() {
        assertEquals(151669, tok.vocabSize());
        assertEquals(151643, tok.tokenId("<|endoftext|>"));
        assertEquals(151644, tok.tokenId("<|im_start|>"));
        assertEquals(151645, tok.tokenId("<|im_end|>"));
        assertEquals(151667, tok.tokenId("<think>"));
        assertEquals(151668, tok.tokenId("</think>"));
        assertEquals(25, tok.tokenId(":"));
        assertEquals(220, tok.tokenId("Ġ"));
    }

    @Test
    void templateMatchesTheSpec() {
        int[] expectedPrefix = {151644, 872, 198, 74785, 279, 2168, 553, 44193, 279, 1894, 11, 12194, 11, 1467, 11,
                6083, 11, 1379, 11, 10434, 11, 27979, 11871, 315, 279, 6171, 323, 4004};
        int[] suffix = {151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271};
        String sys = OvisPrompt.SYSTEM_PROMPT;
        assertArrayEquals(expectedPrefix, tok.encode("<|im_start|>user\n" + sys.substring(0, sys.length() - 2)));
        assertEquals(OvisPrompt.DROPPED_ROWS, expectedPrefix.length);

        OvisPrompt.Encoded cat = OvisPrompt.encode(tok, "a lovely cat", 256);
        assertEquals(41, cat.validTokens());
        assertEquals(284, cat.ids().length);
        assertArrayEquals(expectedPrefix, Arrays.copyOf(cat.ids(), 28));
        assertEquals(25, cat.ids()[28]);
        assertArrayEquals(suffix, Arrays.copyOfRange(cat.ids(), 32, 41));
        for (int k = 41; k < 284; k++) assertEquals(151643, cat.ids()[k]);

        OvisPrompt.Encoded empty = OvisPrompt.encode(tok, "", 256);
        assertEquals(39, empty.validTokens());
        assertArrayEquals(new int[] {25, 220}, Arrays.copyOfRange(empty.ids(), 28, 30));
        assertArrayEquals(suffix, Arrays.copyOfRange(empty.ids(), 30, 39));

        OvisPrompt.Encoded longPrompt = OvisPrompt.encode(tok, "word ".repeat(400), 256);
        assertTrue(longPrompt.truncated());
        assertEquals(284, longPrompt.validTokens());
        assertEquals(oracleIds(OvisPrompt.render("word ".repeat(400))).length, longPrompt.untruncatedTokens());
    }

    @Test
    void corpusMatchesTheReference() {
        List<String> corpus = TokenizerCorpus.build(GENERATED, 20251123L);
        assertTrue(corpus.size() >= 2000);
        List<String> failures = new ArrayList<>();
        long tokens = 0;
        for (String text : corpus) {
            int[] expected = oracleIds(text);
            int[] ids = tok.encode(text);
            tokens += ids.length;
            if (!Arrays.equals(expected, ids)) {
                failures.add(describe(text) + "\n   expected " + Arrays.toString(expected) + "\n   actual   " + Arrays.toString(ids));
                continue;
            }
            String decoded = oracleDecode(ids);
            if (!decoded.equals(tok.decode(ids))) failures.add(describe(text) + ": decode differs: " + describe(tok.decode(ids))
                    + " vs " + describe(decoded));
        }
        System.out.printf("qwen3 corpus: %d strings, %d tokens, %d mismatches%n", corpus.size(), tokens, failures.size());
        if (!failures.isEmpty())
            fail(failures.size() + " of " + corpus.size() + " strings differ from the reference, first ones:\n"
                    + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
    }

    @Test
    void partialCharacterDecodingMatchesTheReference() {
        // Decoding every prefix of a token sequence cuts multi-byte characters in all possible places.
        String text = "一只橙色的猫 😀👨\u200D👩\u200D👧 é ß 𠀀 Привет";
        int[] ids = tok.encode(text);
        for (int n = 0; n <= ids.length; n++) {
            int[] prefix = Arrays.copyOf(ids, n);
            assertEquals(oracleDecode(prefix), tok.decode(prefix), "prefix of " + n + " tokens");
        }
        for (int id : new int[] {0, 127, 128, 255, 256, 1000, 50000, 100000, 151642, 151643, 151668})
            assertEquals(oracleDecode(new int[] {id}), tok.decode(new int[] {id}), "token " + id);
    }

    @Test
    void longInputs() {
        StringBuilder b = new StringBuilder();
        List<String> corpus = TokenizerCorpus.build(500, 7L);
        for (int k = 0; b.length() < 100_000; k++) b.append(corpus.get(k % corpus.size())).append(k % 3 == 0 ? "\n" : " ");
        for (String text : new String[] {b.toString(), "a".repeat(100_000), " ".repeat(100_000), "1".repeat(100_000),
                "\n".repeat(50_000) + "x", "猫".repeat(30_000)}) {
            long t0 = System.nanoTime();
            int[] ids = tok.encode(text);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 5000, text.length() + " characters took " + ms + " ms");
            assertArrayEquals(oracleIds(text), ids, "long input of " + text.length() + " chars starting " + describe(text.substring(0, 20)));
        }
    }

    @Test
    void addedTokenFlagsMatchTheReference(@TempDir Path dir) throws IOException {
        // Qwen3's added tokens are all special and unnormalized; this covers the other combinations
        // and overlapping contents on the tiny tokenizer with three extra tokens.
        Map<String, Object> json = Json.parseObject(Goldens.tiny().resolve("tokenizer/tokenizer.json"));
        @SuppressWarnings("unchecked")
        List<Object> added = (List<Object>) json.get("added_tokens");
        added.add(addedToken(1024, "caf\u00e9", true, false));
        added.add(addedToken(1025, "e\u0301x", false, false));
        added.add(addedToken(1026, "<|im_end|>x", false, true));
        added.add(addedToken(1027, "no\u0308n", true, false));
        Path p = dir.resolve("tokenizer.json");
        Files.writeString(p, Json.write(json, 1));
        Qwen3Tokenizer mine = Qwen3Tokenizer.load(p);
        assertEquals(1028, mine.vocabSize());
        try (HuggingFaceTokenizer ref = HuggingFaceTokenizer.builder().optTokenizerPath(p).optAddSpecialTokens(false)
                .optTruncation(false).optPadding(false).build()) {
            for (String text : new String[] {"un cafe\u0301 noir", "un caf\u00e9 noir", "e\u0301xe\u0301", "\u00e9x",
                    "<|im_end|>x<|im_end|>y", "cafe\u0301xcaf\u00e9", "<|im_end|>", "a<|im_end|>xx", "n\u00f6n no\u0308n"}) {
                long[] expected = ref.encode(text, false, false).getIds();
                int[] ids = mine.encode(text);
                assertArrayEquals(expected, Arrays.stream(ids).asLongStream().toArray(), describe(text));
                assertEquals(ref.decode(expected, false), mine.decode(ids), describe(text));
            }
        }
    }

    private static Map<String, Object> addedToken(long id, String content, boolean normalized, boolean special) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("id", id);
        t.put("content", content);
        for (String flag : List.of("single_word", "lstrip", "rstrip")) t.put(flag, false);
        t.put("normalized", normalized);
        t.put("special", special);
        return t;
    }

    @Test
    void throughput() {
        List<String> corpus = TokenizerCorpus.build(GENERATED, 20251123L);
        Qwen3Tokenizer fresh = Qwen3Tokenizer.load(file);
        long t0 = System.nanoTime(), tokens = 0, chars = 0;
        for (String s : corpus) { tokens += fresh.encode(s).length; chars += s.length(); }
        double cold = (System.nanoTime() - t0) / 1e9;
        double warm = Double.MAX_VALUE;
        for (int r = 0; r < 5; r++) {
            t0 = System.nanoTime();
            for (String s : corpus) fresh.encode(s);
            warm = Math.min(warm, (System.nanoTime() - t0) / 1e9);
        }
        t0 = System.nanoTime();
        for (String s : corpus) oracle.encode(s, false, false);
        double ref = (System.nanoTime() - t0) / 1e9;
        System.out.printf("qwen3 throughput: %d strings, %d chars, %d tokens; first pass %.2fM tokens/s, "
                        + "best warm pass %.2fM tokens/s; reference via JNI %.2fM tokens/s%n",
                corpus.size(), chars, tokens, tokens / cold / 1e6, tokens / warm / 1e6, tokens / ref / 1e6);
    }

    static String describe(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') b.append((char) c);
            else b.append(String.format(c > 0xFFFF ? "\\u{%X}" : "\\u%04X", c));
        });
        return b.append('"').toString();
    }
}
