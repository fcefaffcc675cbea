package org.ovis4j.core.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Whole folders: the writers build output beside its target and remove what a failed run left. */
public final class FileTrees {
    private FileTrees() {}

    /** Deletes p and everything below it; nothing happens when it does not exist. */
    public static void delete(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    /** As {@link #delete}, best effort: for cleaning up after another failure, whose error matters more. */
    public static void deleteQuietly(Path p) {
        try {
            delete(p);
        } catch (IOException ignored) {
            // the caller is already reporting the failure that left this behind
        }
    }
}
