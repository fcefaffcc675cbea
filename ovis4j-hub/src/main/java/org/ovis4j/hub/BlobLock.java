package org.ovis4j.hub;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.ovis4j.core.OvisException;

/**
 * Exclusive right to write one blob: an OS lock on {@code .locks/models--NAMESPACE--NAME/ETAG.lock}, the file
 * huggingface_hub locks for the same blob, and, first, a lock within this JVM. The JVM's file locks belong to the whole
 * process, so two threads asking for the same one would get an {@code OverlappingFileLockException} instead of waiting:
 * the in-process locks are process-wide state by nature, hence the static map.
 *
 * <p>The OS lock is {@code flock(2)} where {@link Flock} can call it, the lock Python's {@code filelock} takes, so
 * that an ovis4j pull and a huggingface_hub download of the same blob wait for each other too; otherwise the JDK's
 * ({@code fcntl} on Linux), which excludes other ovis4j processes only. Even then a Python download cannot corrupt the
 * cache: current huggingface_hub writes to a file of its own and renames it into place, and ovis4j renames only a
 * whole blob whose sha256 (for LFS files) matched.
 */
final class BlobLock implements AutoCloseable {
    private static final ConcurrentHashMap<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();
    private static final long POLL_MILLIS = 50;

    private final ReentrantLock local;
    private final int fd; // the flock'ed descriptor, or -1
    private final FileChannel channel; // else the JDK's lock
    private final FileLock lock;

    private BlobLock(ReentrantLock local, int fd, FileChannel channel, FileLock lock) {
        this.local = local;
        this.fd = fd;
        this.channel = channel;
        this.lock = lock;
    }

    /** Waits until the blob's lock is free, then holds it. */
    static BlobLock acquire(Path lockFile) throws IOException {
        Path key = lockFile.toAbsolutePath().normalize();
        ReentrantLock local = IN_PROCESS.computeIfAbsent(key, k -> new ReentrantLock());
        try {
            local.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for " + lockFile);
        }
        FileChannel channel = null;
        int fd = -1;
        try {
            Files.createDirectories(key.getParent());
            channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            if (Flock.available() && (fd = Flock.open(key)) >= 0) {
                try {
                    while (!Flock.tryLock(fd)) pause();
                    channel.close();
                    return new BlobLock(local, fd, null, null);
                } catch (IOException e) {
                    // a file system without flock: the JDK's lock below
                    Flock.close(fd);
                    fd = -1;
                    if (e instanceof InterruptedIOException) throw e;
                }
            }
            return new BlobLock(local, -1, channel, waitFor(channel));
        } catch (IOException | RuntimeException e) {
            if (fd >= 0) Flock.close(fd);
            if (channel != null) channel.close();
            local.unlock();
            if (e instanceof InterruptedIOException) throw e;
            if (e instanceof java.nio.file.AccessDeniedException)
                throw new OvisException(key.getParent() + ": cannot write the Hub cache's lock files here (permission denied)");
            if (e instanceof IOException) throw new OvisException(key + ": cannot lock (" + e.getMessage() + ")");
            throw e;
        }
    }

    /**
     * Polls with non-blocking attempts, as Python's filelock does. A blocking {@code fcntl} lock would be refused with
     * EDEADLK ("resource deadlock avoided") whenever two pulls each hold one blob and wait for the other's: the kernel's
     * deadlock detection sees processes, not the threads that will release their blobs in time.
     */
    private static FileLock waitFor(FileChannel channel) throws IOException {
        while (true) {
            FileLock lock = channel.tryLock();
            if (lock != null) return lock;
            pause();
        }
    }

    private static void pause() throws InterruptedIOException {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a blob's lock");
        }
    }

    /** The lock file stays, as huggingface_hub leaves its own: deleting it would race with a process about to lock it. */
    @Override
    public void close() throws IOException {
        try {
            if (fd >= 0) {
                Flock.close(fd);
            } else {
                lock.release();
                channel.close();
            }
        } finally {
            local.unlock();
        }
    }
}
