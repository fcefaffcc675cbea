package org.ovis4j.server;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.ovis4j.pipeline.GeneratedImage;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.server.job.Generator;

/**
 * The tiny model behind a gate: each generation waits for a permit before it runs, so that a test
 * can hold a job "running" (or the queue full) for as long as it needs, whatever the machine's speed.
 */
final class GatedGenerator implements Generator, AutoCloseable {
    private final Generator model = TestServer.tinyGenerator();
    final Semaphore permits = new Semaphore(0);
    final AtomicInteger waiting = new AtomicInteger();
    /** The generation last held at the gate. */
    volatile Generation held;

    @Override
    public GeneratedImage generate(Generation g) {
        held = g;
        waiting.incrementAndGet();
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            waiting.decrementAndGet();
        }
        return model.generate(g);
    }

    /** Waits until a generation is held at the gate. */
    void awaitHeld() throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (waiting.get() == 0) {
            if (System.nanoTime() > deadline) throw new AssertionError("no generation reached the gate");
            Thread.sleep(5);
        }
    }

    @Override
    public void close() throws Exception {
        permits.release(1000);
        if (model instanceof AutoCloseable c) c.close();
    }
}
