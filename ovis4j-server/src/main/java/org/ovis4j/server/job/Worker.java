package org.ovis4j.server.job;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.image.PngWriter;
import org.ovis4j.pipeline.GeneratedImage;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.pipeline.ProgressListener;
import org.ovis4j.server.metrics.Metrics;

/**
 * Takes jobs from the queue one at a time and runs them on its own {@link Generator}. Each image
 * is written to disk before the job's file says it is completed, so a completed job's images
 * always exist.
 */
final class Worker implements Runnable {
    private final JobService service;
    private final Generator generator;
    private final Metrics metrics;
    // Guarded by this: the job being run, and whether shutdown asked to stop it and re-queue it.
    private Job current;
    private boolean checkpointing;
    private boolean exited;

    Worker(JobService service, Generator generator, Metrics metrics) {
        this.service = service;
        this.generator = generator;
        this.metrics = metrics;
    }

    @Override
    public void run() {
        try {
            for (Job job; (job = service.queue().take()) != null; ) {
                synchronized (this) {
                    current = job;
                }
                try {
                    run(job);
                } finally {
                    synchronized (this) {
                        current = null;
                        notifyAll();
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            synchronized (this) {
                exited = true;
                notifyAll();
            }
        }
    }

    private void run(Job job) {
        JobStore store = service.store();
        synchronized (job) {
            if (job.cancelRequested()) {
                finish(job, JobState.CANCELLED, null, List.of());
                return;
            }
            job.toRunning(System.currentTimeMillis());
            store.save(job);
        }
        job.announceState();
        long t0 = System.nanoTime();
        try {
            List<String> images = new ArrayList<>();
            for (int k = 0; k < job.request().n(); k++) {
                Generation g = job.request().generation(k).listener(new ProgressListener() {
                    @Override
                    public void onStep(int step, int steps, long stepNanos) {
                        metrics.step(stepNanos);
                        job.stepDone(step, steps, stepNanos);
                    }
                });
                job.running(g, k);
                GeneratedImage image = generator.generate(g);
                store.saveImage(job.imageId(k), PngWriter.encode(image.rgb8(), image.width(), image.height(), image.parameters()));
                metrics.image();
                images.add(job.imageId(k));
            }
            metrics.jobSeconds((System.nanoTime() - t0) / 1e9);
            finish(job, JobState.COMPLETED, null, images);
        } catch (CancellationException e) {
            boolean requeue;
            synchronized (this) {
                requeue = checkpointing && !job.cancelRequested();
            }
            if (requeue) {
                synchronized (job) {
                    job.toQueued();
                    store.save(job);
                }
                job.announceState();
            } else {
                finish(job, JobState.CANCELLED, null, List.of());
            }
        } catch (OvisException e) {
            finish(job, JobState.FAILED, new JobError(JobError.GENERATION_FAILED, e.getMessage()), List.of());
        } catch (OutOfMemoryError e) {
            finish(job, JobState.FAILED, new JobError(JobError.OUT_OF_MEMORY, "out of memory (raise the heap with OVIS4J_HEAP)"), List.of());
        } catch (IOException | RuntimeException e) {
            System.err.println("ovis4j: job " + job.id() + " failed: " + e);
            finish(job, JobState.FAILED, new JobError(JobError.INTERNAL, e.toString()), List.of());
        }
    }

    private void finish(Job job, JobState state, JobError error, List<String> images) {
        synchronized (job) {
            job.toFinal(state, System.currentTimeMillis(), error, images);
            service.store().save(job);
        }
        job.announceState();
    }

    /** Waits until no job runs here (or the worker has exited), at most {@code nanos}. */
    synchronized void awaitIdle(long nanos) throws InterruptedException {
        long deadline = nanos == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + nanos;
        while (current != null && !exited) {
            long left = deadline == Long.MAX_VALUE ? 0 : deadline - System.nanoTime();
            if (deadline != Long.MAX_VALUE && left <= 0) return;
            if (deadline == Long.MAX_VALUE) wait();
            else wait(Math.max(1, left / 1_000_000));
        }
    }

    /** Stops the running job at its next step and puts it back in the queue (shutdown). */
    void checkpoint() {
        Job job;
        synchronized (this) {
            checkpointing = true;
            job = current;
        }
        if (job != null) {
            synchronized (job) {
                // The generation's own flag, not the job's: the job was not cancelled by its client.
                job.interruptForShutdown();
            }
        }
    }
}
