package org.ovis4j.core.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesAndWritesBack() {
        Object v = Json.parse(" {\"a\": [1, -2.5e3, true, null, \"x\\u00e9\\n\"], \"b\": {}} ");
        assertEquals(Map.of("a", java.util.Arrays.asList(1L, -2500.0, true, null, "xé\n"), "b", Map.of()), v);
        assertEquals("{\"a\":[1,-2500.0,true,null,\"xé\\n\"],\"b\":{}}", Json.write(v, 0));
        assertEquals(List.of(), Json.parse("[]"));
    }

    @Test
    void errorsSayWhere() {
        assertEquals("invalid JSON at offset 7: expected ',' or '}'",
                assertThrows(Json.JsonException.class, () -> Json.parse("{\"a\":1 2}")).getMessage());
        assertThrows(Json.JsonException.class, () -> Json.parse("[1,]x"));
        assertThrows(Json.JsonException.class, () -> Json.parse("\"open"));
    }
}
