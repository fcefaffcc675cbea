package org.ovis4j.spring.ai;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;

/**
 * A fenced block of the repository's README.md, found by the {@code <!-- snippet: NAME (...) -->}
 * comment before it, and javac over it. (ovis4j-spring-ai and ovis4j-langchain4j each hold a copy:
 * neither module's tests may depend on the other's.)
 */
final class ReadmeSnippet {
    /** The README, from this module's folder (surefire's working directory). */
    static final Path README = Path.of("../README.md");

    private ReadmeSnippet() {}

    static String readme() throws IOException {
        return Files.readString(README);
    }

    /** The text between the fences of the block after the marker, each line ending in a newline. */
    static String block(String name) throws IOException {
        String md = readme();
        int marker = md.indexOf("<!-- snippet: " + name + " ");
        assertTrue(marker >= 0, "README.md has no snippet " + name);
        int open = md.indexOf("```", marker);
        int start = md.indexOf('\n', open) + 1;
        int close = md.indexOf("\n```", start);
        assertTrue(open >= 0 && close > start, "snippet " + name + " is not followed by a fenced block");
        return md.substring(start, close + 1);
    }

    /** Compiles a snippet, one compilation unit declaring public class {@code className}, against the test classpath. */
    static void compile(String source, String className, Path out) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        // Surefire runs the tests from a manifest-only jar: the real classpath is in this property.
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        JavaFileObject unit = new SimpleJavaFileObject(URI.create("string:///" + className + ".java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return source;
            }
        };
        boolean ok = javac.getTask(null, null, diagnostics, List.of("-classpath", classpath, "-d", out.toString(), "-proc:none"),
                null, List.of(unit)).call();
        if (!ok) fail("the README's " + className + " does not compile:\n" + diagnostics.getDiagnostics().stream()
                .map(d -> "line " + d.getLineNumber() + ": " + d.getMessage(null)).collect(Collectors.joining("\n")));
        assertTrue(Files.exists(out.resolve(className + ".class")));
    }
}
