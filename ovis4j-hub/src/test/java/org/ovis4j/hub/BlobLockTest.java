package org.ovis4j.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The blob lock against another program holding the same lock file as Python's filelock does (flock(2)). */
class BlobLockTest {
    @TempDir
    Path tmp;

    @Test
    void aBlobLockedWithFlockByAnotherProgramIsWaitedFor() throws Exception {
        assertTrue(Flock.available(), "flock(2) through FFM (tests run with native access enabled, on Linux)");
        Path lockFile = tmp.resolve(".locks/models--a--b/" + "ab".repeat(32) + ".lock");
        java.nio.file.Files.createDirectories(lockFile.getParent());
        // util-linux's flock(1) takes the same flock(2) lock as filelock's UnixFileLock, and holds it until told to stop
        Process holder = new ProcessBuilder("flock", lockFile.toString(), "sh", "-c", "echo locked; read line").start();
        BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("locked", out.readLine());

        // The lock is taken and released on one thread (the in-process part is a ReentrantLock): the waiter holds it until told.
        CompletableFuture<Void> acquired = new CompletableFuture<>();
        CompletableFuture<Void> release = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try (BlobLock lock = BlobLock.acquire(lockFile)) {
                acquired.complete(null);
                release.get();
            } catch (Throwable e) {
                acquired.completeExceptionally(e);
            }
        });
        waiter.start();
        // However long this pause, the lock cannot be had while the other program holds it.
        Thread.sleep(300);
        assertFalse(acquired.isDone(), "acquired while another program held the flock");

        try (OutputStream in = holder.getOutputStream()) {
            in.write('\n');
        }
        assertEquals(0, holder.waitFor());
        acquired.get(60, TimeUnit.SECONDS);
        // now another program waits for us
        Process probe = new ProcessBuilder("flock", "--nonblock", lockFile.toString(), "true").start();
        assertEquals(1, probe.waitFor(), "flock(1) --nonblock fails while ovis4j holds the lock");
        release.complete(null);
        waiter.join();
        Process after = new ProcessBuilder("flock", "--nonblock", lockFile.toString(), "true").start();
        assertEquals(0, after.waitFor(), "released on close");
    }
}
