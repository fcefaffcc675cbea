package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.ovis4j.core.io.FileTrees;

/**
 * The command line run as its own process, in an environment the test sets (usually nothing but PATH),
 * either through {@code bin/ovis4j} or as plain {@code java -cp}.
 *
 * <p>Arguments reach the process as exact bytes whatever this JVM's locale: the command is an ASCII
 * {@code /bin/sh -c} script in which every argument is a {@code printf} of octal escapes. (Passing a
 * Chinese prompt through ProcessBuilder would encode it with this test JVM's own file-name charset,
 * ASCII when the build runs in the POSIX locale, and test nothing.)
 */
final class CliProcess {
    record Result(int code, String out, String err) {}

    private CliProcess() {}

    /** The repository root (the folder holding mvnw). */
    static Path repository() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("mvnw"))) dir = dir.getParent();
        if (dir == null) fail("no mvnw above " + Path.of("").toAbsolutePath());
        return dir;
    }

    /** The real Qwen3 tokenizer folder (scripts/fetch-qwen3-tokenizer.sh; -Dovis4j.qwen3.tokenizer=FILE overrides). */
    static Path qwen3Tokenizer() {
        String prop = System.getProperty("ovis4j.qwen3.tokenizer");
        Path file = prop != null && !prop.isBlank() ? Path.of(prop) : repository().resolve(".cache/qwen3-tokenizer/tokenizer.json");
        if (!Files.isRegularFile(file))
            fail("Qwen3 tokenizer.json not found at " + file + ": run scripts/fetch-qwen3-tokenizer.sh (or set -Dovis4j.qwen3.tokenizer=<path>)");
        return file.toAbsolutePath().getParent();
    }

    /** {@code bin/ovis4j ARGS} with exactly {@code env} as the environment, in {@code dir}. */
    static Result launcher(Map<String, String> env, Path dir, byte[] stdin, Object... args) {
        return run(env, dir, stdin, shellWord(launcherCheckout().resolve("bin/ovis4j").toString()), args);
    }

    /** {@code java [flags] -cp CLASSPATH org.ovis4j.cli.Ovis4j ARGS}: the program without the launcher's locale set-up. */
    static Result java(Map<String, String> env, Path dir, byte[] stdin, Object... args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String command = shellWord(java) + " --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx1g"
                + " -cp " + shellWord(String.join(File.pathSeparator, classPath())) + " " + Ovis4j.class.getName();
        return run(env, dir, stdin, command, args);
    }

    /** Another program (e.g. ls), in the same kind of environment. */
    static Result tool(Path dir, String program, Object... args) {
        return run(onlyPath(), dir, null, shellWord(program), args);
    }

    /** PATH holding this JVM's java first (the launcher looks there when JAVA_HOME is unset), then the system's tools. */
    static Map<String, String> onlyPath() {
        return Map.of("PATH", Path.of(System.getProperty("java.home"), "bin") + ":/usr/bin:/bin");
    }

    /** Each argument is a String (sent as its UTF-8 bytes) or a byte[] (sent as is). */
    private static Result run(Map<String, String> env, Path dir, byte[] stdin, String command, Object... args) {
        StringBuilder script = new StringBuilder("exec ").append(command);
        for (Object a : args) script.append(' ').append(shellWord(a instanceof byte[] b ? b : a.toString().getBytes(StandardCharsets.UTF_8)));
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", script.toString()).directory(dir.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            CompletableFuture<byte[]> out = drain(p.getInputStream()), err = drain(p.getErrorStream());
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) in.write(stdin);
            }
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("timed out: " + script);
            }
            return new Result(p.exitValue(), new String(out.join(), StandardCharsets.UTF_8), new String(err.join(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new RuntimeException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }

    private static CompletableFuture<byte[]> drain(InputStream s) {
        return CompletableFuture.supplyAsync(() -> {
            try (s) {
                return s.readAllBytes();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
    }

    static String shellWord(String s) {
        return shellWord(s.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A shell word that expands to exactly these bytes: "$(printf '\ooo...')", letters, digits and / . _
     * kept for legibility ('-' is escaped too, or printf would take "--model" for an option of its own).
     */
    static String shellWord(byte[] bytes) {
        StringBuilder sb = new StringBuilder("\"$(printf '");
        for (byte b : bytes) {
            int c = b & 0xFF;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '.' || c == '_')
                sb.append((char) c);
            else sb.append(String.format("\\%03o", c));
        }
        return sb.append("')\"").toString();
    }

    /** This build's class path (surefire's), without test classes. */
    private static List<String> classPath() {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator))
            if (!e.isEmpty() && !e.contains("test-classes")) out.add(e);
        return out;
    }

    private static Path checkout;

    /**
     * A checkout that bin/ovis4j runs from without {@code ./mvnw package} (tests run before it): links to
     * the repository's top-level entries but .git and ovis4j-cli, and an ovis4j-cli/target/ holding this
     * build's classes as jars (ovis4j-cli-*.jar and lib/*.jar), where the launcher looks for them.
     */
    static synchronized Path launcherCheckout() {
        if (checkout != null) return checkout;
        Path repo = repository();
        Path root = repo.resolve("ovis4j-cli/target/launcher-checkout");
        try {
            FileTrees.delete(root);
            Path lib = Files.createDirectories(root.resolve("ovis4j-cli/target/lib"));
            try (Stream<Path> entries = Files.list(repo)) {
                for (Path e : entries.toList())
                    if (!Set.of("ovis4j-cli", ".git").contains(e.getFileName().toString())) Files.createSymbolicLink(root.resolve(e.getFileName()), e);
            }
            Path cliClasses = repo.resolve("ovis4j-cli/target/classes");
            jar(cliClasses, root.resolve("ovis4j-cli/target/ovis4j-cli-launcher-test.jar"));
            for (String e : classPath()) {
                Path p = Path.of(e).toAbsolutePath();
                if (p.equals(cliClasses)) continue;
                if (Files.isDirectory(p)) jar(p, lib.resolve(p.getParent().getParent().getFileName() + ".jar")); // <module>/target/classes
                else if (p.toString().endsWith(".jar")) Files.createSymbolicLink(lib.resolve(p.getFileName()), p);
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        assertTrue(Files.isExecutable(root.resolve("bin/ovis4j")));
        return checkout = root;
    }

    private static void jar(Path classes, Path jarFile) throws IOException {
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(jarFile)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                jar.putNextEntry(new ZipEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, jar);
                jar.closeEntry();
            }
        }
    }
}
