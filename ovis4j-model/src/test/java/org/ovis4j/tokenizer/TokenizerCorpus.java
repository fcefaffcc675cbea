package org.ovis4j.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A deterministic corpus for comparing against the reference tokenizer: a fixed list of hand-picked
 * edge cases plus strings assembled by a seeded generator from fragment pools, glued with assorted
 * separators so that regex boundaries between unlike fragments get exercised.
 */
final class TokenizerCorpus {
    private TokenizerCorpus() {}

    static final List<String> HAND = List.of(
            "", " ", "  ", "\t", "\n", "\r\n", "\n\n", " \n", "\n ", "   \n\n   ", "\t\t\n\t", "\r", "\r\r\n\n",
            "\u00A0", "x\u00A0y", "x\u00A0\u00A0 y", "a\u3000b", "a\u2003\u2003b", "a\u0085b", "a\u2028b\u2029c",
            "a\u202Fb", "a\u205Fb", "a\u1680b", "a\u000Bb\u000Cc", "a\u200Bb", "a\u180Eb", "a\uFEFFb", " \u00A0\n",
            "x<|im_end|>y", "<|im_start|>", "<|im_start|>user\nhi<|im_end|>", "<|im_start", "im_end|>", "<|<|im_end|>|>",
            "<|endoftext|><|endoftext|>", "<think>\n\n</think>\n\n", "<tool_call>{\"a\":1}</tool_call>", " <|im_end|> ",
            "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>", "<|vision_start|><|image_pad|><|vision_end|>",
            "it's", "It'S", "IT'S", "we'LL", "they'Re", "I'vE", "I'M", "he'D", "'s", "'", "''", "'''s", "x's's",
            "don't", "DON'T", "y'all", "o'clock", "it\u2019s", "'ſ", "'K", "l'été", "'123", "' s", "'\u0301s",
            "0", "00", "123", "1234567890123456789", "3.14159", "1,000,000", "-42", "+1e-10", "0x1F", "v1.2.3",
            "٣٤٥", "१२३", "①②③", "½¾", "Ⅻ", "ⅷ", "１２３", "²³", "𝟙𝟚", "١٢abc٣", "12ab34", "a1b2c3",
            "éé", "e\u0301", "cafe\u0301", "A\u030A", "Å", "Å", "n\u0303", "a\u0301\u0302\u0303", "\u0301", " \u0301",
            "\u1100\u1161\u11A8", "한국어", "ᄀ", "Việt Nam", "Ελληνικά", "Русский язык", "עברית", "العربية", "हिन्दी",
            "ภาษาไทย", "ｶﾀｶﾅ", "カタカナ", "ひらがな", "漢字かな交じり文", "中文，标点！", "「引用」", "《书名》",
            "😀", "😀😀", "👍🏽", "👨\u200D👩\u200D👧\u200D👦", "🏳️\u200D🌈", "🇯🇵🇺🇸", "🇯", "❤️", "1️⃣", "🧑🏿\u200D💻",
            "🫠", "a😀b", " 😀", "😀 ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠀀𠀁", "\uE000", "\uFFFD", "\uFFFF",
            "\u0000", "\u0001\u0002", "\u007F", "\u0080\u009F", "\u00AD", "a\u00ADb", "ﬁ", "ﬀﬃ", "ſt", "ß", "ẞ", "İı",
            "...", "!!!", "?!", "—", "a — b", "–", "«»", "“quoted”", "``x''", "#", "@user", "$%^&*", "¿¡",
            "email@example.com", "https://example.com/path?q=1&r=2#frag", "C:\\Users\\x\\file.txt", "~/.bashrc",
            "for (int i = 0; i < n; i++) {\n    sum += a[i];\n}", "def f(x):\n\treturn x ** 2\n", "\tif (x) {\r\n\t\treturn;\r\n\t}",
            "<div class=\"a\">b</div>", "{\"key\": [1, 2, 3], \"v\": null}", "SELECT * FROM t WHERE a = 'b';",
            "x = y + z; // comment", "/* block */", "#include <stdio.h>", "a_b_c __init__ snake_case camelCase PascalCase",
            "   indented", "trailing   ", "a  b   c    d", "a\n\n\nb", "a \n b", "a\t \tb", "a \r\n b", " \n\n  x",
            "supercalifragilisticexpialidocious", "Donaudampfschifffahrtsgesellschaftskapitän",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", "\n\n\n\n\n\n\n\n\n\n", "                                        x",
            "Describe the image by detailing the color, quantity, text, shape, size, texture, spatial relationships of "
                    + "the objects and background: a lovely cat");

    private static final String[] WORDS = (
            "the a an of to in and is was for on with as by at from that this it be are not or which but have had has "
                    + "cat dog apple garden robot house tree river mountain light shadow color quantity texture spatial "
                    + "relationships background beautiful painting photograph portrait landscape sunset morning evening "
                    + "The A It This When Where Why How What Who THE AND NOT NASA OpenAI GPT iPhone McDonald eBay "
                    + "running jumped quickly slowly extraordinarily antidisestablishmentarianism pneumonoultramicroscopic "
                    + "naïve résumé façade jalapeño Zürich São Paulo Kraków Ærøskøbing coöperate").split(" ");

    private static final String[] FRAGMENTS = {
            "it's", "IT'S", "they'll", "THEY'LL", "we're", "WE'RE", "I've", "I'VE", "I'm", "you'd", "YOU'D", "'s", "'S",
            "'ll", "'LL", "'Re", "'vE", "'m", "'D", "’s", "“", "”", "‘", "’",
            "0", "7", "42", "1999", "2024", "3.14", "1,234", "12345678901234567890", "٣", "१०", "½", "②", "Ⅳ", "７",
            "一只橙色的猫", "你好，世界！", "我喜欢吃苹果、香蕉和西瓜。", "这是一个美丽的早晨", "模型", "图像生成",
            "こんにちは世界", "カタカナ", "日本語の文章です。", "ｶﾞｷﾞ", "안녕하세요", "세상", "한국어 텍스트", "\u1100\u1161",
            "Привет", "мир", "Ελλάδα", "שלום", "مرحبا", "नमस्ते", "สวัสดี", "Tiếng Việt",
            "😀", "👍", "👍🏻", "👨\u200D👩\u200D👧", "👩\u200D🚀", "🏳️\u200D⚧️", "🇫🇷", "🇨🇳", "🇺🇸🇬🇧", "❤️", "✨", "🎉", "🤖", "#️⃣",
            "e\u0301", "é", "o\u0308", "ö", "A\u030A", "Å", "n\u0303", "ñ", "c\u0327", "ç", "\u0301", "a\u0323\u0302",
            "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<think>", "</think>", "<|im_start", "|>", "<|", "<tool_call>",
            "...", "!", "?", "!!", "?!", ",", ";", ":", "-", "--", "—", "(", ")", "[", "]", "{", "}", "\"", "'", "`",
            "/", "\\", "@", "#", "$", "%", "&", "*", "+", "=", "<", ">", "|", "~", "^", "_", "__", "·", "•", "§", "©", "™",
            "for (int i = 0; i < n; i++)", "return x;", "if x == 0:", "print(\"hi\")", "a->b", "x => x * 2", "std::vector<int>",
            "0xDEADBEEF", "user@example.org", "https://x.io/a?b=c", "C:\\temp", "$HOME/.config", "<br/>", "&amp;",
            "ﬁ", "ß", "İ", "ſ", "µ", "Ω", "K", "Å", "ǅ", "ᾼ",
    };

    private static final String[] SEPARATORS = {
            " ", " ", " ", " ", "", "", "  ", "   ", "\n", "\n\n", "\r\n", "\t", " \t", "\t\t", " \n", "\n ", "\n\n\n",
            "\u00A0", "\u3000", "\u2002", "\u2009", "\u200A", "\u0085", "\u2028", "\u202F", "\u205F", "\u000B", "\u000C",
            "\r", "\u200B", " \u00A0 ", "\u00A0\n", "    ",
    };

    /** The hand list followed by generated strings, {@code generated} of them, the same every run. */
    static List<String> build(int generated, long seed) {
        List<String> out = new ArrayList<>(HAND);
        SplittableRandom r = new SplittableRandom(seed);
        for (int k = 0; k < generated; k++) out.add(generate(r));
        return out;
    }

    private static String generate(SplittableRandom r) {
        StringBuilder b = new StringBuilder();
        int style = r.nextInt(10);
        int parts = 1 + r.nextInt(style == 0 ? 40 : 12);
        for (int p = 0; p < parts; p++) {
            if (p > 0) b.append(SEPARATORS[r.nextInt(SEPARATORS.length)]);
            int kind = r.nextInt(20);
            if (kind < 7) b.append(WORDS[r.nextInt(WORDS.length)]);
            else if (kind < 14) b.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]);
            else if (kind == 14) b.append(casing(r, WORDS[r.nextInt(WORDS.length)]));
            else if (kind == 15) b.append(digits(r));
            else if (kind == 16) b.append(randomCodePoints(r));
            else if (kind == 17) b.append(letters(r));
            else if (kind == 18) b.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]).append(WORDS[r.nextInt(WORDS.length)]);
            else b.append(String.valueOf(SEPARATORS[r.nextInt(SEPARATORS.length)]).repeat(1 + r.nextInt(6)));
        }
        return b.toString();
    }

    private static String casing(SplittableRandom r, String w) {
        StringBuilder b = new StringBuilder();
        w.codePoints().forEach(c -> b.appendCodePoint(r.nextBoolean() ? Character.toUpperCase(c) : c));
        return b.toString();
    }

    private static String digits(SplittableRandom r) {
        StringBuilder b = new StringBuilder();
        int n = 1 + r.nextInt(30);
        for (int i = 0; i < n; i++) b.append((char) ('0' + r.nextInt(10)));
        return b.toString();
    }

    private static String letters(SplittableRandom r) {
        StringBuilder b = new StringBuilder();
        int n = 20 + r.nextInt(300);
        String alphabet = r.nextBoolean() ? "abcdefghijklmnopqrstuvwxyz" : "etaoinshrdlu的一是了我不人在他有這个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会";
        for (int i = 0; i < n; i++) b.append(alphabet.charAt(r.nextInt(alphabet.length())));
        return b.toString();
    }

    /** Code points from assorted blocks, including controls, combining marks, CJK and astral planes. */
    private static String randomCodePoints(SplittableRandom r) {
        int[][] ranges = {{0x20, 0x7E}, {0x00, 0x1F}, {0xA0, 0x17F}, {0x300, 0x36F}, {0x370, 0x3FF}, {0x400, 0x4FF},
                {0x590, 0x6FF}, {0x900, 0x97F}, {0xE00, 0xE7F}, {0x1100, 0x11FF}, {0x2000, 0x206F}, {0x2100, 0x21FF},
                {0x2460, 0x24FF}, {0x3000, 0x30FF}, {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0xFF00, 0xFFEF},
                {0x1D400, 0x1D7FF}, {0x1F300, 0x1FAFF}, {0x20000, 0x2A6DF}, {0xE000, 0xE0FF}};
        StringBuilder b = new StringBuilder();
        int n = 1 + r.nextInt(8);
        for (int i = 0; i < n; i++) {
            int[] range = ranges[r.nextInt(ranges.length)];
            int cp = range[0] + r.nextInt(range[1] - range[0] + 1);
            if (Character.getType(cp) == Character.UNASSIGNED) cp = 'x'; // unassigned: Unicode versions differ
            b.appendCodePoint(cp);
        }
        return b.toString();
    }
}
