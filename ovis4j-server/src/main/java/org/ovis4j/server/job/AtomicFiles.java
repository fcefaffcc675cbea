package org.ovis4j.server.job;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Files that are either the old or the new content, never a mix: the bytes go to a temporary file
 * in the same folder, are forced to the disk, and the file is renamed over the old one; the
 * folder is then forced too, so the rename itself survives a power cut, not only a killed process.
 */
final class AtomicFiles {
    /** Temporary files end so; a crash can leave them behind, and {@link #removeLeftovers} deletes them. */
    static final String TEMP_SUFFIX = ".tmp";

    private AtomicFiles() {}

    static void write(Path file, byte[] bytes) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + file.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + TEMP_SUFFIX);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) ch.write(b);
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        forceFolder(dir);
    }

    static void forceFolder(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems cannot open a folder for reading; the rename is still atomic there.
        }
    }

    static void removeLeftovers(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList())
                if (p.getFileName().toString().endsWith(TEMP_SUFFIX)) Files.deleteIfExists(p);
        }
    }
}
