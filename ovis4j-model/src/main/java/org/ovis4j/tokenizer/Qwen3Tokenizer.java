package org.ovis4j.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;

/**
 * A byte-level BPE tokenizer read from a Hugging Face {@code tokenizer.json}, reproducing the
 * tokenizers library for the pipeline Qwen2/Qwen3 use: added tokens, NFC, regex Split (Isolated),
 * ByteLevel, BPE, ByteLevel decoder. Anything else in the file is rejected rather than approximated.
 *
 * <p>Thread-safe after loading.
 */
public final class Qwen3Tokenizer {
    private static final int CACHE_LIMIT = 100_000;
    private static final int CACHE_WORD_CHARS = 64;

    private final String[] idToToken;
    private final byte[][] idToBytes;
    private final Map<String, Integer> tokenToId;
    private final AddedTokens rawAdded;
    private final AddedTokens normalizedAdded;
    private final boolean nfc;
    private final List<Pattern> splits;
    private final BytePairEncoder bpe;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    private Qwen3Tokenizer(String[] idToToken, Map<String, Integer> tokenToId, AddedTokens rawAdded,
                           AddedTokens normalizedAdded, boolean nfc, List<Pattern> splits, BytePairEncoder bpe) {
        this.idToToken = idToToken;
        this.tokenToId = tokenToId;
        this.rawAdded = rawAdded;
        this.normalizedAdded = normalizedAdded;
        this.nfc = nfc;
        this.splits = splits;
        this.bpe = bpe;
        idToBytes = new byte[idToToken.length][];
        for (int i = 0; i < idToToken.length; i++)
            if (idToToken[i] != null) idToBytes[i] = ByteLevel.decodeToken(idToToken[i]);
    }

    // ---------------------------------------------------------------- loading

    /** Reads a {@code tokenizer.json}; every problem is an {@link OvisException} naming the file. */
    public static Qwen3Tokenizer load(Path tokenizerJson) {
        if (!Files.isRegularFile(tokenizerJson))
            throw new OvisException("tokenizer file not found: " + tokenizerJson);
        Object root;
        try {
            root = Json.parse(tokenizerJson);
        } catch (IOException e) {
            throw new OvisException("cannot read " + tokenizerJson + ": " + e.getMessage(), e);
        } catch (Json.JsonException e) {
            throw new OvisException("malformed tokenizer.json: " + e.getMessage(), e);
        }
        try {
            return build(root);
        } catch (OvisException e) {
            throw new OvisException(tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    private static Qwen3Tokenizer build(Object rootValue) {
        Map<String, Object> root = object(rootValue, "top level");
        Map<String, Object> model = object(root.get("model"), "model");
        String type = (String) optional(model, "type", String.class, "BPE");
        if (!type.equals("BPE")) throw new OvisException("unsupported tokenizer model type " + type + " (only BPE)");
        if (!Boolean.FALSE.equals(optional(model, "byte_fallback", Boolean.class, false)))
            throw new OvisException("unsupported BPE option byte_fallback=true");
        if (Boolean.TRUE.equals(optional(model, "ignore_merges", Boolean.class, false)))
            throw new OvisException("unsupported BPE option ignore_merges=true");
        Object dropout = model.get("dropout");
        if (dropout != null && ((Number) typed(dropout, Number.class, "model.dropout")).doubleValue() != 0)
            throw new OvisException("unsupported BPE option dropout=" + dropout);
        for (String affix : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            Object v = model.get(affix);
            if (v != null && !"".equals(v)) throw new OvisException("unsupported BPE option " + affix + "=" + v);
        }

        Map<String, Object> vocabJson = object(model.get("vocab"), "model.vocab");
        Map<String, Integer> tokenToId = new HashMap<>(vocabJson.size() * 2);
        int size = 0;
        for (Map.Entry<String, Object> e : vocabJson.entrySet()) {
            int id = id(e.getValue(), "model.vocab[" + e.getKey() + "]");
            tokenToId.put(e.getKey(), id);
            size = Math.max(size, id + 1);
        }

        List<Object> addedJson = list(optional(root, "added_tokens", List.class, List.of()), "added_tokens");
        List<AddedTokens.Token> raw = new ArrayList<>(), normalized = new ArrayList<>();
        Map<Integer, String> addedById = new HashMap<>();
        Map<String, Integer> addedByContent = new HashMap<>();
        int maxAdded = -1;
        for (int k = 0; k < addedJson.size(); k++) {
            Map<String, Object> t = object(addedJson.get(k), "added_tokens[" + k + "]");
            int id = id(t.get("id"), "added_tokens[" + k + "].id");
            String content = (String) typed(t.get("content"), String.class, "added_tokens[" + k + "].content");
            for (String flag : List.of("lstrip", "rstrip", "single_word"))
                if (Boolean.TRUE.equals(t.get(flag)))
                    throw new OvisException("unsupported added token option " + flag + "=true on " + content);
            // The tokenizers library ignores the ids in the file and numbers added tokens itself (a
            // vocabulary token keeps its id, a new one follows the vocabulary and earlier added tokens).
            // Files it wrote agree; one that does not would be tokenized differently there, so refuse it.
            Integer expected = addedByContent.containsKey(content) ? addedByContent.get(content) : tokenToId.get(content);
            if (expected == null) expected = maxAdded >= vocabJson.size() ? maxAdded + 1 : vocabJson.size();
            if (id != expected)
                throw new OvisException("malformed tokenizer.json: added token " + content + " has id " + id
                        + " but its position gives id " + expected);
            maxAdded = Math.max(maxAdded, id);
            size = Math.max(size, id + 1);
            addedById.put(id, content);
            addedByContent.put(content, id);
            if (content.isEmpty()) continue;
            // Only the "normalized" flag decides where a token is matched, "special" plays no part.
            boolean norm = !Boolean.FALSE.equals(t.get("normalized"));
            if (norm) normalized.add(new AddedTokens.Token(content, id)); // contents normalized below, once NFC is known
            else raw.add(new AddedTokens.Token(content, id));
        }

        String[] idToToken = new String[size];
        for (Map.Entry<String, Integer> e : tokenToId.entrySet()) idToToken[e.getValue()] = e.getKey();
        for (Map.Entry<Integer, String> e : addedById.entrySet()) idToToken[e.getKey()] = e.getValue();
        Map<String, Integer> lookup = new HashMap<>(tokenToId);
        lookup.putAll(addedByContent);

        int[] byteIds = new int[256];
        for (int b = 0; b < 256; b++) byteIds[b] = tokenToId.getOrDefault(String.valueOf(ByteLevel.BYTE_CHAR[b]), -1);

        List<Object> merges = list(model.get("merges"), "model.merges");
        int[] left = new int[merges.size()], right = new int[merges.size()], merged = new int[merges.size()];
        for (int r = 0; r < merges.size(); r++) {
            String a, b;
            Object m = merges.get(r);
            if (m instanceof String s) {
                String[] parts = s.split(" ", -1);
                if (parts.length != 2) throw new OvisException("malformed tokenizer.json: merge " + r + " '" + s + "' is not two tokens");
                a = parts[0];
                b = parts[1];
            } else if (m instanceof List<?> pair && pair.size() == 2 && pair.get(0) instanceof String s0
                    && pair.get(1) instanceof String s1) {
                a = s0;
                b = s1;
            } else throw new OvisException("malformed tokenizer.json: merge " + r + " is neither \"a b\" nor [a, b]");
            Integer ia = tokenToId.get(a), ib = tokenToId.get(b), im = tokenToId.get(a + b);
            if (ia == null || ib == null || im == null)
                throw new OvisException("malformed tokenizer.json: merge " + r + " (" + a + ", " + b
                        + ") uses a token missing from the vocab");
            left[r] = ia;
            right[r] = ib;
            merged[r] = im;
        }

        boolean nfc = readNormalizer(root.get("normalizer"));
        // The reference normalizes these contents too, since they are matched against normalized text.
        if (nfc) normalized.replaceAll(t -> new AddedTokens.Token(Normalizer.normalize(t.content(), Normalizer.Form.NFC), t.id()));
        List<Pattern> splits = readPreTokenizer(root.get("pre_tokenizer"));
        Object decoder = root.get("decoder");
        if (decoder == null || !"ByteLevel".equals(object(decoder, "decoder").get("type")))
            throw new OvisException("unsupported decoder " + describe(decoder) + " (only ByteLevel)");

        return new Qwen3Tokenizer(idToToken, lookup, new AddedTokens(raw), new AddedTokens(normalized), nfc, splits,
                new BytePairEncoder(byteIds, left, right, merged));
    }

    private static boolean readNormalizer(Object n) {
        if (n == null) return false;
        Map<String, Object> m = object(n, "normalizer");
        if ("NFC".equals(m.get("type"))) return true;
        if ("Sequence".equals(m.get("type"))) {
            List<Object> items = list(m.get("normalizers"), "normalizer.normalizers");
            if (items.isEmpty()) return false;
            if (items.size() == 1) return readNormalizer(items.get(0));
        }
        throw new OvisException("unsupported normalizer " + describe(n) + " (only NFC or none)");
    }

    /** Zero or more regex Splits followed by one ByteLevel that does no splitting of its own. */
    private static List<Pattern> readPreTokenizer(Object p) {
        if (p == null) throw new OvisException("unsupported pre_tokenizer null (a ByteLevel pre-tokenizer is required)");
        Map<String, Object> m = object(p, "pre_tokenizer");
        List<Object> items = "Sequence".equals(m.get("type"))
                ? list(m.get("pretokenizers"), "pre_tokenizer.pretokenizers") : List.of(p);
        List<Pattern> splits = new ArrayList<>();
        for (int k = 0; k < items.size(); k++) {
            Map<String, Object> it = object(items.get(k), "pre_tokenizer item " + k);
            Object type = it.get("type");
            boolean last = k == items.size() - 1;
            if ("Split".equals(type) && !last) {
                if (!"Isolated".equals(it.get("behavior")))
                    throw new OvisException("unsupported Split behavior " + it.get("behavior") + " (only Isolated)");
                if (Boolean.TRUE.equals(it.get("invert"))) throw new OvisException("unsupported Split invert=true");
                splits.add(splitPattern(object(it.get("pattern"), "Split pattern")));
            } else if ("ByteLevel".equals(type) && last) {
                if (!Boolean.FALSE.equals(it.getOrDefault("use_regex", true)))
                    throw new OvisException("unsupported ByteLevel pre-tokenizer with use_regex=true");
                if (Boolean.TRUE.equals(it.get("add_prefix_space")))
                    throw new OvisException("unsupported ByteLevel pre-tokenizer with add_prefix_space=true");
            } else {
                throw new OvisException("unsupported pre_tokenizer " + describe(it)
                        + " (expected Split(Isolated) ... followed by ByteLevel)");
            }
        }
        return splits;
    }

    /**
     * The reference compiles patterns with Oniguruma, where {@code \s}, {@code \w} and case folding
     * are Unicode-aware; Java needs UNICODE_CHARACTER_CLASS for the same classes ({@code \s} =
     * White_Space, including U+0085, U+00A0, U+2000–U+200A, U+3000 ...). Both engines backtrack with
     * leftmost-first alternation, so match boundaries agree.
     */
    private static Pattern splitPattern(Map<String, Object> pattern) {
        try {
            if (pattern.get("Regex") instanceof String re) return Pattern.compile(re, Pattern.UNICODE_CHARACTER_CLASS);
            if (pattern.get("String") instanceof String lit) return Pattern.compile(Pattern.quote(lit));
        } catch (PatternSyntaxException e) {
            throw new OvisException("unsupported Split regex: " + e.getDescription());
        }
        throw new OvisException("malformed tokenizer.json: Split pattern has neither Regex nor String");
    }

    private static String describe(Object o) {
        if (o instanceof Map<?, ?> m && m.get("type") != null) return String.valueOf(m.get("type"));
        return String.valueOf(o);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object v, String what) {
        if (v instanceof Map<?, ?> m) return (Map<String, Object>) m;
        throw new OvisException("malformed tokenizer.json: " + what + " is " + (v == null ? "missing" : "not an object"));
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object v, String what) {
        if (v instanceof List<?> l) return (List<Object>) l;
        throw new OvisException("malformed tokenizer.json: " + what + " is " + (v == null ? "missing" : "not a list"));
    }

    private static Object typed(Object v, Class<?> type, String what) {
        if (type.isInstance(v)) return v;
        throw new OvisException("malformed tokenizer.json: " + what + " is " + (v == null ? "missing" : "not a " + type.getSimpleName().toLowerCase()));
    }

    private static Object optional(Map<String, Object> m, String key, Class<?> type, Object dflt) {
        Object v = m.get(key);
        return v == null ? dflt : typed(v, type, key);
    }

    private static int id(Object v, String what) {
        if (v instanceof Long l && l >= 0 && l < Integer.MAX_VALUE - 8) return (int) (long) l;
        throw new OvisException("malformed tokenizer.json: " + what + " is not a valid token id");
    }

    // ---------------------------------------------------------------- encoding

    /**
     * Token ids of {@code text} without any special tokens added. Added tokens are recognised in the
     * raw text (special or not), the text between them is normalized and split.
     *
     * <p>Lone surrogates, which UTF-8 cannot carry, are read as one U+FFFD each (the WHATWG rule for
     * turning UTF-16 into scalar values). The reference has no answer of its own: Python strings with
     * lone surrogates are rejected before reaching Rust, and JNI bindings garble the whole string.
     */
    public int[] encode(String text) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        String clean = replaceLoneSurrogates(text);
        rawAdded.split(clean, out, this::encodeUnmatched);
        return out.toArray();
    }

    private void encodeUnmatched(String segment, IntList out) {
        String s = nfc ? Normalizer.normalize(segment, Normalizer.Form.NFC) : segment;
        normalizedAdded.split(s, out, this::encodeNormalized);
    }

    private void encodeNormalized(String s, IntList out) {
        List<String> pieces = List.of(s);
        for (Pattern p : splits) {
            List<String> next = new ArrayList<>();
            for (String piece : pieces) splitIsolated(p, piece, next);
            pieces = next;
        }
        for (String piece : pieces) out.addAll(encodeWord(piece));
    }

    /** Matches and the text between them each become a piece, in order. */
    private static void splitIsolated(Pattern p, String s, List<String> out) {
        Matcher m = p.matcher(s);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) out.add(s.substring(last, m.start()));
            if (m.end() > m.start()) out.add(s.substring(m.start(), m.end()));
            last = m.end();
        }
        if (last < s.length()) out.add(s.substring(last));
    }

    private int[] encodeWord(String piece) {
        if (piece.length() > CACHE_WORD_CHARS) return bpe.encode(piece.getBytes(StandardCharsets.UTF_8));
        int[] hit = cache.get(piece);
        if (hit != null) return hit;
        int[] ids = bpe.encode(piece.getBytes(StandardCharsets.UTF_8));
        // Crude bound: clearing is cheap and keeps memory flat on unbounded input streams.
        if (cache.size() >= CACHE_LIMIT) cache.clear();
        cache.put(piece, ids);
        return ids;
    }

    private static String replaceLoneSurrogates(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isSurrogate(c)) continue;
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
                continue;
            }
            if (b == null) b = new StringBuilder(s);
            b.setCharAt(i, '\uFFFD');
        }
        return b == null ? s : b.toString();
    }

    // ---------------------------------------------------------------- decoding and lookup

    /** The text of {@code ids}, special tokens included; partial UTF-8 sequences become U+FFFD. */
    public String decode(int[] ids) {
        byte[] buf = new byte[Math.max(16, ids.length * 4)];
        int n = 0;
        for (int id : ids) {
            byte[] b = bytesOf(id);
            if (n + b.length > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, n + b.length));
            System.arraycopy(b, 0, buf, n, b.length);
            n += b.length;
        }
        return ByteLevel.utf8Lossy(buf, n);
    }

    private byte[] bytesOf(int id) {
        if (id < 0 || id >= idToBytes.length || idToBytes[id] == null)
            throw new OvisException("token id " + id + " is not in the vocabulary (size " + vocabSize() + ")");
        return idToBytes[id];
    }

    /** The token's vocabulary string (byte-level spelling, or the added token's content). */
    public String token(int id) {
        bytesOf(id);
        return idToToken[id];
    }

    /** The id of a vocabulary string or added token content, or -1. */
    public int tokenId(String token) {
        Integer id = tokenToId.get(token);
        return id == null ? -1 : id;
    }

    /** One more than the largest id, added tokens included (151,669 for Qwen3). */
    public int vocabSize() {
        return idToToken.length;
    }

    // ---------------------------------------------------------------- helpers

    /** Leftmost-longest matching of added-token contents, as the reference's Aho-Corasick does. */
    static final class AddedTokens {
        record Token(String content, int id) {}

        interface Rest {
            void encode(String segment, IntList out);
        }

        private final Map<Character, Token[]> byFirstChar = new HashMap<>();
        // Most text never starts a token; a bit test per character avoids boxing it for the map.
        private final BitSet firstChars = new BitSet(65536);

        AddedTokens(List<Token> tokens) {
            Map<Character, List<Token>> groups = new HashMap<>();
            for (Token t : tokens) groups.computeIfAbsent(t.content.charAt(0), c -> new ArrayList<>()).add(t);
            groups.forEach((c, l) -> {
                l.sort(Comparator.comparingInt((Token t) -> t.content.length()).reversed());
                byFirstChar.put(c, l.toArray(Token[]::new));
                firstChars.set(c);
            });
        }

        void split(String s, IntList out, Rest rest) {
            if (byFirstChar.isEmpty()) {
                if (!s.isEmpty()) rest.encode(s, out);
                return;
            }
            int last = 0;
            for (int i = 0; i < s.length(); ) {
                char c = s.charAt(i);
                if (!firstChars.get(c)) { i++; continue; }
                Token[] cands = byFirstChar.get(c);
                Token hit = null;
                if (cands != null)
                    for (Token t : cands)
                        if (s.startsWith(t.content, i)) { hit = t; break; }
                if (hit == null) { i++; continue; }
                if (i > last) rest.encode(s.substring(last, i), out);
                out.add(hit.id);
                i += hit.content.length();
                last = i;
            }
            if (last < s.length()) rest.encode(s.substring(last), out);
        }
    }

    static final class IntList {
        private int[] a;
        private int n;

        IntList(int capacity) {
            a = new int[capacity];
        }

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, a.length * 2);
            a[n++] = v;
        }

        void addAll(int[] v) {
            if (n + v.length > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, n + v.length));
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
