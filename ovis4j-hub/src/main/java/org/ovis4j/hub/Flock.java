package org.ovis4j.hub;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Locale;

/**
 * {@code flock(2)} on Linux and macOS, called through FFM: the lock Python's {@code filelock} (and so huggingface_hub)
 * takes on {@code .locks/.../ETAG.lock}. The JDK's own file locks are {@code fcntl} record locks, which Linux keeps
 * apart from {@code flock} ones, so only this one makes an ovis4j pull and a Python download of the same blob wait for
 * each other. Unavailable (another OS, native access not enabled for this module, a file system without
 * {@code flock}): the caller falls back to the JDK's lock.
 */
final class Flock {
    private static final int O_RDWR = 2, LOCK_EX = 2, LOCK_NB = 4, EINTR = 4;
    /** EWOULDBLOCK: 11 on Linux, 35 on macOS. */
    private static final int EWOULDBLOCK = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("mac") ? 35 : 11;
    private static final StructLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN, FLOCK, CLOSE;

    static {
        MethodHandle open = null, flock = null, close = null;
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if ((os.contains("linux") || os.contains("mac")) && Flock.class.getModule().isNativeAccessEnabled()) {
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                Linker.Option errno = Linker.Option.captureCallState("errno");
                // open(const char *path, int flags, ...): the mode is a variadic argument
                open = linker.downcallHandle(libc.find("open").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errno, Linker.Option.firstVariadicArg(2));
                flock = linker.downcallHandle(libc.find("flock").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT), errno);
                close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            } catch (RuntimeException e) {
                open = flock = close = null;
            }
        }
        OPEN = open;
        FLOCK = flock;
        CLOSE = close;
    }

    private Flock() {}

    static boolean available() {
        return OPEN != null;
    }

    /** A descriptor of the existing file, or -1 when it cannot be opened this way (the caller falls back). */
    static int open(Path file) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(STATE);
            return (int) OPEN.invokeExact(state, arena.allocateFrom(file.toAbsolutePath().toString()), O_RDWR, 0);
        } catch (Throwable t) {
            return -1;
        }
    }

    /** Takes the exclusive lock if it is free: true; false if another holder has it. */
    static boolean tryLock(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(STATE);
            while (true) {
                int r = (int) FLOCK.invokeExact(state, fd, LOCK_EX | LOCK_NB);
                if (r == 0) return true;
                int errno = (int) ERRNO.get(state, 0L);
                if (errno == EWOULDBLOCK) return false;
                if (errno != EINTR) throw new IOException("flock failed (errno " + errno + ")");
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("flock failed: " + t);
        }
    }

    /** Closing the descriptor releases its lock. */
    static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            // nothing left to release
        }
    }
}
