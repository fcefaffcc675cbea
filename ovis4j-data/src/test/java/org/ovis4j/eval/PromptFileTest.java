package org.ovis4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.data.render.Lang;

class PromptFileTest {
    @TempDir
    Path dir;

    @Test
    void extractsEveryQuoteStyleInOrder() {
        assertEquals(List.of("OPEN", "营业中", "欢迎", "Don’t panic", "SALE"),
                PromptFile.quoted("A sign \"OPEN\" and “营业中”, then 「欢迎」 and ‘Don’t panic’ plus \"SALE\"."));
        assertEquals(List.of("it’s fine"), PromptFile.quoted("It’s a poster that says \"it’s fine\"."));
        assertTrue(PromptFile.quoted("no quotes, just an apostrophe’s tail").isEmpty());
    }

    @Test
    void readsTextsLangAndDetectsChinese() throws Exception {
        Path f = dir.resolve("p.jsonl");
        Files.writeString(f, """
                {"id": "a", "prompt": "A poster reading \\"SUMMER SALE\\"."}

                {"id": 7, "prompt": "一张海报，写着“夏季大促销”。"}
                {"id": "c", "prompt": "whatever", "texts": ["x", "y"], "lang": "zh"}
                """);
        List<PromptFile.Prompt> ps = PromptFile.read(f);
        assertEquals(3, ps.size());
        assertEquals(List.of("SUMMER SALE"), ps.get(0).texts());
        assertEquals(Lang.EN, ps.get(0).lang());
        assertEquals("7", ps.get(1).id());
        assertEquals(Lang.ZH, ps.get(1).lang());
        assertEquals(3, ps.get(1).line());
        assertEquals(List.of("x", "y"), ps.get(2).texts());
        assertEquals(Lang.ZH, ps.get(2).lang());
    }

    @Test
    void errorsNameFileAndLine() throws Exception {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "{\"id\": \"a\", \"prompt\": \"\\\"ok\\\"\"}\n{\"id\": \"b\", \"prompt\": \"a poster with no quoted text\"}\n");
        OvisException e = assertThrows(OvisException.class, () -> PromptFile.read(f));
        assertTrue(e.getMessage().startsWith(f + ":2: "), e.getMessage());
        assertTrue(e.getMessage().contains("no quoted text"), e.getMessage());

        Files.writeString(f, "{\"id\": \"a\", \"prompt\": \"\\\"ok\\\"\", \"lang\": \"fr\"}\n");
        assertTrue(assertThrows(OvisException.class, () -> PromptFile.read(f)).getMessage().contains(":1: unknown language 'fr'"));
        Files.writeString(f, "{\"id\": \"a\", \"prompt\": \"\\\"x\\\"\"}\n{\"id\": \"a\", \"prompt\": \"\\\"y\\\"\"}\n");
        assertTrue(assertThrows(OvisException.class, () -> PromptFile.read(f)).getMessage().contains(":2: id 'a' already used on line 1"));
        Files.writeString(f, "{not json\n");
        assertTrue(assertThrows(OvisException.class, () -> PromptFile.read(f)).getMessage().startsWith(f + ":1: invalid JSON"));
        assertTrue(assertThrows(OvisException.class, () -> PromptFile.read(dir.resolve("none.jsonl"))).getMessage().contains("no such file"));
    }
}
