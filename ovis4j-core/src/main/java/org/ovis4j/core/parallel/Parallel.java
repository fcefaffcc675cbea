package org.ovis4j.core.parallel;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/**
 * The compute thread pool. Work is a count of independent tasks handed out one index at a time, so
 * uneven tasks balance themselves; the calling thread works too. A call made from inside a task runs
 * serially, which keeps nested kernels from deadlocking the pool. When the calling thread has run out of
 * indices, helpers that have not started yet are told to do nothing rather than waited for: for small work (the
 * element-wise kernels of a small model) waking a parked pool thread takes longer than the work itself,
 * and waiting for it would put that wake-up on every call's critical path.
 *
 * <p>Thread count: {@link ThreadCount#configured()} ({@code -Dovis4j.threads=N} or {@code OVIS4J_THREADS}, else all
 * available processors); an invalid setting fails this class's initialisation, so the command line checks it first.
 */
public final class Parallel {
    private static final int THREADS = ThreadCount.configured();
    private static final ExecutorService POOL = Executors.newFixedThreadPool(Math.max(1, THREADS - 1), r -> {
        Thread t = new Thread(r, "ovis4j-compute");
        t.setDaemon(true);
        return t;
    });
    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);

    private Parallel() {}

    public static int threads() {
        return THREADS;
    }

    /** True on a thread running a task of {@link #forEach}, where nested work runs serially (native backends use one thread there). */
    public static boolean inside() {
        return INSIDE.get();
    }

    /** Runs {@code body.accept(i)} for every i in [0, count), spread over the pool. */
    public static void forEach(int count, IntConsumer body) {
        if (count <= 0) return;
        if (count == 1 || THREADS == 1 || INSIDE.get()) {
            for (int i = 0; i < count; i++) body.accept(i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable worker = () -> {
            boolean was = INSIDE.get();
            INSIDE.set(true);
            try {
                for (int i; (i = next.getAndIncrement()) < count && failure.get() == null; ) body.accept(i);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                INSIDE.set(was);
            }
        };
        int helpers = Math.min(THREADS - 1, count - 1);
        // A helper first claims its slot; the caller, once out of indices, claims the slots of helpers that
        // have not started, so they return at once, and waits only for those that did start.
        java.util.concurrent.atomic.AtomicIntegerArray claimed = new java.util.concurrent.atomic.AtomicIntegerArray(helpers);
        Future<?>[] fs = new Future<?>[helpers];
        for (int h = 0; h < helpers; h++) {
            int slot = h;
            fs[h] = POOL.submit(() -> {
                if (claimed.compareAndSet(slot, 0, 1)) worker.run();
            });
        }
        worker.run();
        for (int h = 0; h < helpers; h++) {
            if (claimed.compareAndSet(h, 0, 1)) continue; // never started: nothing left for it to do
            try {
                fs[h].get();
            } catch (Exception e) {
                failure.compareAndSet(null, e);
            }
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) throw re;
        if (t instanceof Error er) throw er;
        if (t != null) throw new RuntimeException(t);
    }
}
