package org.ovis4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's LangChain4j example compiles, and its Maven snippet names this build's coordinates. */
class ReadmeSnippetTest {
    @Test
    void langChain4jExampleCompiles(@TempDir Path out) throws IOException {
        ReadmeSnippet.compile(ReadmeSnippet.block("langchain4j"), "Posters", out);
    }

    @Test
    void dependencySnippetNamesThisBuildsModulesAndVersion() throws IOException {
        String readme = ReadmeSnippet.readme();
        String section = readme.substring(readme.indexOf("## Use from Java"));
        String xml = section.substring(section.indexOf("```xml"), section.indexOf("```", section.indexOf("```xml") + 6));
        String pom = Files.readString(Path.of("../pom.xml"));
        Matcher version = Pattern.compile("<artifactId>ovis4j-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertTrue(version.find());
        assertTrue(xml.contains("<groupId>org.ovis4j</groupId>"), xml);
        assertTrue(xml.contains("<version>" + version.group(1) + "</version>"), "README's version is not the build's " + version.group(1));
        Matcher artifacts = Pattern.compile("ovis4j-[a-z0-9-]+").matcher(xml);
        int named = 0;
        while (artifacts.find()) {
            assertTrue(pom.contains("<module>" + artifacts.group() + "</module>"), artifacts.group() + " is not a module of this build");
            named++;
        }
        assertEquals(3, named, "the snippet names ovis4j-spring-ai, ovis4j-langchain4j and ovis4j-model");
    }
}
