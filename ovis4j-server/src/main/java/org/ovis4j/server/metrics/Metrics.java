package org.ovis4j.server.metrics;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * The server's counters, and their Prometheus text exposition (format 0.0.4). Counters only grow;
 * gauges (queue length, jobs by state) are read from the job service when scraped, so that they
 * can never drift from the truth.
 */
public final class Metrics {
    /** Images per second is measured over this window. */
    static final long RATE_WINDOW_NANOS = 60_000_000_000L;

    private final Map<Integer, LongAdder> responses = new ConcurrentHashMap<>();
    private final LongAdder steps = new LongAdder();
    private final DoubleAdder stepSeconds = new DoubleAdder();
    private final LongAdder images = new LongAdder();
    private final LongAdder rejectedFull = new LongAdder();
    private final ArrayDeque<Long> recentImages = new ArrayDeque<>();
    private final long startNanos = System.nanoTime();
    private volatile double jobSecondsEwma = Double.NaN;

    public void response(int status) {
        responses.computeIfAbsent(status, s -> new LongAdder()).increment();
    }

    public void step(long nanos) {
        steps.increment();
        stepSeconds.add(nanos / 1e9);
    }

    public void image() {
        images.increment();
        long now = System.nanoTime();
        synchronized (recentImages) {
            recentImages.addLast(now);
            trim(now);
        }
    }

    public void queueFull() {
        rejectedFull.increment();
    }

    /** A job ran for this long: the estimate behind Retry-After. */
    public void jobSeconds(double s) {
        double old = jobSecondsEwma;
        jobSecondsEwma = Double.isNaN(old) ? s : 0.8 * old + 0.2 * s;
    }

    /** Mean seconds per job lately, or NaN before the first. */
    public double jobSeconds() { return jobSecondsEwma; }

    private void trim(long now) {
        while (!recentImages.isEmpty() && now - recentImages.peekFirst() > RATE_WINDOW_NANOS) recentImages.removeFirst();
    }

    /** Images finished per second over the last minute (or since start, if sooner). */
    public double imagesPerSecond() {
        long now = System.nanoTime();
        synchronized (recentImages) {
            trim(now);
            double window = Math.min(RATE_WINDOW_NANOS, Math.max(1, now - startNanos)) / 1e9;
            return recentImages.size() / window;
        }
    }

    /** What a scrape sees of the job service. */
    public record Gauges(int queueLength, int queueCapacity, Map<String, Integer> jobsByState, boolean ready, int workers) {}

    public String exposition(Gauges g) {
        StringBuilder b = new StringBuilder();
        gauge(b, "ovis4j_queue_length", "Jobs waiting for a worker.", g.queueLength());
        gauge(b, "ovis4j_queue_capacity", "Jobs the queue holds before answering 429.", g.queueCapacity());
        b.append("# HELP ovis4j_jobs Jobs known to the server, by state.\n# TYPE ovis4j_jobs gauge\n");
        for (var e : g.jobsByState().entrySet()) b.append("ovis4j_jobs{state=\"").append(e.getKey()).append("\"} ").append(e.getValue()).append('\n');
        gauge(b, "ovis4j_model_ready", "1 once the model is loaded and workers run.", g.ready() ? 1 : 0);
        gauge(b, "ovis4j_workers", "Generations that can run at once.", g.workers());
        b.append("# HELP ovis4j_step_seconds Time of denoising steps.\n# TYPE ovis4j_step_seconds summary\n");
        b.append("ovis4j_step_seconds_sum ").append(stepSeconds.sum()).append('\n');
        b.append("ovis4j_step_seconds_count ").append(steps.sum()).append('\n');
        b.append("# HELP ovis4j_images_total Images generated.\n# TYPE ovis4j_images_total counter\n");
        b.append("ovis4j_images_total ").append(images.sum()).append('\n');
        b.append("# HELP ovis4j_images_per_second Images generated per second over the last minute.\n# TYPE ovis4j_images_per_second gauge\n");
        b.append("ovis4j_images_per_second ").append(imagesPerSecond()).append('\n');
        b.append("# HELP ovis4j_queue_full_total Submissions refused with 429 because the queue was full.\n# TYPE ovis4j_queue_full_total counter\n");
        b.append("ovis4j_queue_full_total ").append(rejectedFull.sum()).append('\n');
        b.append("# HELP ovis4j_http_responses_total HTTP responses by status code.\n# TYPE ovis4j_http_responses_total counter\n");
        for (var e : new TreeMap<>(responses).entrySet())
            b.append("ovis4j_http_responses_total{code=\"").append(e.getKey()).append("\"} ").append(e.getValue().sum()).append('\n');
        return b.toString();
    }

    private static void gauge(StringBuilder b, String name, String help, double v) {
        b.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n");
        b.append(name).append(' ').append(v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v)).append('\n');
    }
}
