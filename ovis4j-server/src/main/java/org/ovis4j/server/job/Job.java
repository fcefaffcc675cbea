package org.ovis4j.server.job;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.ovis4j.pipeline.Generation;

/**
 * One accepted request and everything that belongs to it: what was asked, its state, its
 * progress, its cancellation, its results, and who is watching it. The model holds none of this;
 * a worker only lends the job its model while the job runs.
 *
 * <p>State changes go through {@link JobService}, under this object's monitor, together with the
 * write of the job's file, so that the file on disk never runs ahead of or behind what clients saw.
 */
public final class Job {
    /** Someone watching a job (an event stream); called on the thread that changed the job, so it must not block. */
    public interface Listener {
        /** After a denoising step: {@code progress} is the job just then. */
        void onStep(Snapshot progress);

        /** The state changed (to running, or to a final state). */
        void onState(Job job);
    }

    /** What a client sees of a job at one moment. */
    public record Snapshot(String id, JobState state, long createdMillis, long startedMillis, long finishedMillis, JobRequest request,
                           JobError error, List<String> imageIds, int image, int step, int steps, double etaSeconds, int attempts) {}

    private final String id;
    private final long sequence;
    private final long createdMillis;
    private final JobRequest request;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    // Guarded by this.
    private JobState state = JobState.QUEUED;
    private int attempts;
    private long startedMillis, finishedMillis;
    private JobError error;
    private List<String> imageIds = List.of();
    private boolean cancelRequested;
    private boolean interrupted;
    private Generation current;
    private int image, step, steps;
    private long stepNanosTotal, stepsTimed;
    /** The progress of the current run, step by step, for streams that join late; dropped once the job is final. */
    private final List<Snapshot> progress = new ArrayList<>();

    Job(String id, long sequence, long createdMillis, JobRequest request) {
        this.id = id;
        this.sequence = sequence;
        this.createdMillis = createdMillis;
        this.request = request;
    }

    public String id() { return id; }
    /** The order of acceptance: queued jobs run, and are resumed after a restart, in this order. */
    public long sequence() { return sequence; }
    public JobRequest request() { return request; }

    public synchronized JobState state() { return state; }

    /** The id of image {@code k} of this job, also its file name and URL. */
    public String imageId(int k) { return id + "-" + k; }

    public synchronized Snapshot snapshot() {
        double eta = Double.NaN;
        if (state == JobState.RUNNING && stepsTimed > 0 && steps > 0) {
            double mean = stepNanosTotal / 1e9 / stepsTimed;
            eta = mean * ((steps - step) + (long) steps * (request.n() - image - 1));
        }
        return new Snapshot(id, state, createdMillis, startedMillis, finishedMillis, request, error, imageIds, image, step, steps, eta, attempts);
    }

    /**
     * Adds a listener and returns the steps of the current run so far: together they are every
     * step, each once (listeners are called under this job's monitor, so none falls between).
     */
    public synchronized List<Snapshot> subscribe(Listener l) {
        listeners.add(l);
        return List.copyOf(progress);
    }
    public void removeListener(Listener l) { listeners.remove(l); }

    /** Waits until the job is final. */
    public synchronized void awaitFinal() throws InterruptedException {
        while (!state.isFinal()) wait();
    }

    // ------------------------------------------------------------ transitions (JobService, Worker)

    synchronized boolean cancelRequested() { return cancelRequested; }

    /** Asks a running job to stop; its generation sees it at the next step. */
    synchronized void requestCancel() {
        cancelRequested = true;
        if (current != null) current.cancel();
    }

    /** The generation now running for this job (its cancellation and progress are the job's). */
    synchronized void running(Generation g, int imageIndex) {
        current = g;
        image = imageIndex;
        step = 0;
        steps = g.steps();
        if (cancelRequested || interrupted) g.cancel();
    }

    /** Stops the running generation for a shutdown: not a cancellation by the client, so the job is re-queued. */
    synchronized void interruptForShutdown() {
        interrupted = true;
        if (current != null) current.cancel();
    }

    /** Called from the generation's listener. */
    synchronized void stepDone(int step, int steps, long nanos) {
        this.step = step;
        this.steps = steps;
        stepNanosTotal += nanos;
        stepsTimed++;
        progress.add(snapshot());
        Snapshot now = progress.getLast();
        for (Listener l : listeners) l.onStep(now);
    }

    synchronized void toRunning(long now) {
        state = JobState.RUNNING;
        attempts++;
        startedMillis = now;
        image = step = 0;
        steps = request.steps();
        stepNanosTotal = stepsTimed = 0;
        progress.clear();
    }

    synchronized void toQueued() {
        state = JobState.QUEUED;
        interrupted = false;
        current = null;
        step = 0;
    }

    synchronized void toFinal(JobState s, long now, JobError error, List<String> images) {
        if (!s.isFinal()) throw new IllegalArgumentException(s + " is not final");
        state = s;
        finishedMillis = now;
        this.error = error;
        this.imageIds = List.copyOf(images);
        current = null;
        progress.clear();
        notifyAll();
    }

    synchronized void announceState() {
        for (Listener l : listeners) l.onState(this);
    }

    synchronized int attempts() { return attempts; }

    // ------------------------------------------------------------ the job file

    synchronized Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("sequence", sequence);
        m.put("created", createdMillis);
        m.put("state", state.wire());
        m.put("attempts", (long) attempts);
        m.put("started", startedMillis);
        m.put("finished", finishedMillis);
        m.put("request", request.toJson());
        m.put("error", error == null ? null : error.toJson());
        m.put("images", new ArrayList<Object>(imageIds));
        return m;
    }

    static Job fromJson(Map<?, ?> m) {
        Job j = new Job((String) m.get("id"), ((Number) m.get("sequence")).longValue(), ((Number) m.get("created")).longValue(),
                JobRequest.fromJson((Map<?, ?>) m.get("request")));
        j.state = JobState.ofWire((String) m.get("state"));
        j.attempts = ((Number) m.get("attempts")).intValue();
        j.startedMillis = ((Number) m.get("started")).longValue();
        j.finishedMillis = ((Number) m.get("finished")).longValue();
        j.error = JobError.fromJson((Map<?, ?>) m.get("error"));
        List<String> images = new ArrayList<>();
        for (Object o : (List<?>) m.get("images")) images.add((String) o);
        j.imageIds = List.copyOf(images);
        return j;
    }
}
