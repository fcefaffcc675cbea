package org.ovis4j.server.job;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.ovis4j.server.http.ApiException;
import org.ovis4j.server.metrics.Metrics;

/**
 * The jobs: accepting them (persisted before the client hears "accepted"), handing them to the
 * workers, cancelling them, resuming them after a restart, and stopping cleanly.
 *
 * <p>The promise is that an accepted job is never lost: its file is written (and forced to disk)
 * before the 202 or the synchronous wait begins, every change of state is written before anyone
 * can see it, and a restart puts every job that was queued back in the queue, in the same order.
 * A job that was running when the server died is run again once; if the server dies during that
 * second attempt too, the job fails with {@link JobError#INTERRUPTED} rather than take the server
 * down forever.
 */
public final class JobService {
    /** Runs a job gets before a crash during it fails it instead of re-running it. */
    public static final int MAX_ATTEMPTS = 2;

    private final JobStore store;
    private final JobQueue queue;
    private final Metrics metrics;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final SecureRandom random = new SecureRandom();
    private final List<Worker> workers = new ArrayList<>();
    private volatile boolean accepting = true;

    public JobService(JobStore store, int queueCapacity, Metrics metrics) {
        this.store = store;
        this.queue = new JobQueue(queueCapacity);
        this.metrics = metrics;
    }

    /**
     * Reads the jobs on disk: queued ones go back in the queue, a running one is re-queued or failed
     * (see the class comment). Returns a one-line summary for the log.
     */
    public String recover() {
        int resumed = 0, rerun = 0, failed = 0, done = 0;
        for (Job j : store.loadAll()) {
            jobs.put(j.id(), j);
            sequence.accumulateAndGet(j.sequence(), Math::max);
            synchronized (j) {
                switch (j.state()) {
                    case QUEUED -> { queue.addRecovered(j); resumed++; }
                    case RUNNING -> {
                        if (j.attempts() < MAX_ATTEMPTS) {
                            j.toQueued();
                            store.save(j);
                            queue.addRecovered(j);
                            rerun++;
                        } else {
                            j.toFinal(JobState.FAILED, System.currentTimeMillis(), new JobError(JobError.INTERRUPTED,
                                    "the server stopped while this job ran, " + j.attempts() + " times; it is not tried again"), List.of());
                            store.save(j);
                            failed++;
                        }
                    }
                    default -> done++;
                }
            }
        }
        return "jobs on disk: " + resumed + " queued resumed, " + rerun + " interrupted re-run, " + failed + " interrupted failed, " + done + " finished";
    }

    /** Starts one worker per generator (each generator used by its worker alone). */
    public synchronized void start(List<Generator> generators) {
        for (int k = 0; k < generators.size(); k++) {
            Worker w = new Worker(this, generators.get(k), metrics);
            workers.add(w);
            Thread.ofPlatform().name("ovis4j-worker-" + k).start(w);
        }
    }

    public boolean ready() { return !workers.isEmpty(); }
    public int workers() { return workers.size(); }

    /** Accepts a job: when this returns, the job is on disk and in the queue. */
    public Job submit(JobRequest request) {
        if (!accepting) throw new ApiException(503, "shutting_down", null, "the server is shutting down").header("Retry-After", "5");
        int full = queue.reserve();
        if (full >= 0) {
            metrics.queueFull();
            throw new ApiException(429, "queue_full", null, "the queue is full (" + full + " jobs waiting); retry later")
                    .header("Retry-After", Long.toString(retryAfterSeconds()));
        }
        Job job;
        try {
            job = new Job(newId(), sequence.incrementAndGet(), System.currentTimeMillis(), request);
            synchronized (job) {
                store.save(job);
            }
        } catch (RuntimeException e) {
            queue.release();
            throw e;
        }
        jobs.put(job.id(), job);
        queue.add(job);
        return job;
    }

    /** Seconds until a place in the queue is likely to free: a job's recent mean time over the workers. */
    long retryAfterSeconds() {
        double perJob = metrics.jobSeconds();
        if (Double.isNaN(perJob)) return 1;
        return Math.max(1, (long) Math.ceil(perJob / Math.max(1, workers.size())));
    }

    private String newId() {
        byte[] b = new byte[12];
        random.nextBytes(b);
        return "job_" + HexFormat.of().formatHex(b);
    }

    /** The job, or a 404. */
    public Job get(String id) {
        Job j = id == null ? null : jobs.get(id);
        if (j == null) throw new ApiException(404, "job_not_found", null, "no job " + (id == null || id.length() > 60 ? "with that id" : id));
        return j;
    }

    /** 1-based place in the queue, or 0 when not waiting. */
    public int position(Job job) { return queue.position(job); }

    /** Cancels a queued or running job; a 409 for a job already final. */
    public void cancel(Job job) {
        synchronized (job) {
            switch (job.state()) {
                case QUEUED -> {
                    if (queue.remove(job)) {
                        job.toFinal(JobState.CANCELLED, System.currentTimeMillis(), null, List.of());
                        store.save(job);
                    } else {
                        job.requestCancel(); // a worker has just taken it: it stops before its first step
                    }
                }
                case RUNNING -> job.requestCancel();
                default -> throw new ApiException(409, "job_final", null, "job " + job.id() + " is already " + job.state().wire());
            }
        }
        job.announceState();
    }

    /** The most recent jobs, newest first. */
    public List<Job> recent(int limit) {
        return jobs.values().stream().sorted((a, b) -> Long.compare(b.sequence(), a.sequence())).limit(limit).toList();
    }

    public Metrics.Gauges gauges() {
        Map<String, Integer> byState = new LinkedHashMap<>();
        for (JobState s : JobState.values()) byState.put(s.wire(), 0);
        for (Job j : jobs.values()) byState.merge(j.state().wire(), 1, Integer::sum);
        return new Metrics.Gauges(queue.size(), queue.capacity(), byState, ready(), workers.size());
    }

    // ------------------------------------------------------------ for the workers

    JobQueue queue() { return queue; }
    JobStore store() { return store; }
    public boolean stopping() { return !accepting; }

    /**
     * Graceful stop (SIGTERM): no new jobs; the running ones get {@code grace} to finish, then are
     * stopped at their next step and put back in the queue on disk, to run after the next start.
     * Queued jobs stay queued on disk.
     */
    public void shutdown(Duration grace) throws InterruptedException {
        accepting = false;
        queue.close();
        long deadline = System.nanoTime() + grace.toNanos();
        List<Worker> ws;
        synchronized (this) {
            ws = List.copyOf(workers);
        }
        for (Worker w : ws) w.awaitIdle(Math.max(0, deadline - System.nanoTime()));
        for (Worker w : ws) w.checkpoint();
        for (Worker w : ws) w.awaitIdle(Long.MAX_VALUE);
    }
}
