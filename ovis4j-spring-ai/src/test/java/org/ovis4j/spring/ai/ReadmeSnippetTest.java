package org.ovis4j.spring.ai;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.parallel.ThreadCount;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** The README's Spring AI example compiles, and its properties are ones this module binds. */
class ReadmeSnippetTest {
    static final Set<String> KEYS = Set.of("model", "pull", "precision", "threads", "options.n", "options.width", "options.height",
            "options.response-format", "options.steps", "options.guidance", "options.seed", "options.negative-prompt");

    @Test
    void springAiExampleCompiles(@TempDir Path out) throws IOException {
        ReadmeSnippet.compile(ReadmeSnippet.block("spring-ai"), "PosterApp", out);
    }

    @Test
    void propertiesExampleBinds() throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(ReadmeSnippet.block("spring-ai-properties")));
        assertFalse(p.isEmpty());
        Map<String, String> map = new HashMap<>();
        for (String key : p.stringPropertyNames()) {
            assertTrue(key.startsWith(Ovis4jProperties.PREFIX + ".") && KEYS.contains(key.substring(Ovis4jProperties.PREFIX.length() + 1)),
                    "README property " + key + " is not one of spring.ai.ovis4j." + KEYS);
            map.put(key, p.getProperty(key));
        }
        // Binding fails on a value that is not of its property's type (a trailing comment, say).
        Ovis4jProperties bound = new Binder(new MapConfigurationPropertySource(map)).bind(Ovis4jProperties.PREFIX, Ovis4jProperties.class).get();
        assertNotNull(Ovis4jAutoConfiguration.precision(bound.getPrecision()));
        if (bound.getThreads() != null) ThreadCount.parse("threads", bound.getThreads().toString());
    }
}
