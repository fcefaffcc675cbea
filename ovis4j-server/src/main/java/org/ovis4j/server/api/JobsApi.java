package org.ovis4j.server.api;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.ovis4j.server.http.ApiException;
import org.ovis4j.server.http.EventStream;
import org.ovis4j.server.http.Request;
import org.ovis4j.server.http.Router;
import org.ovis4j.server.job.Job;
import org.ovis4j.server.job.JobService;
import org.ovis4j.server.job.JobStore;

/** The asynchronous API: submit, poll, cancel, follow (Server-Sent Events), and the images. */
public final class JobsApi {
    private static final String ID = "(job_[0-9a-f]{24})";
    /** A comment this often on an idle event stream, so proxies keep it and a departed client is noticed. */
    private static final long KEEP_ALIVE_SECONDS = 15;

    private final JobService service;
    private final JobStore store;
    private final ImageRequestMapping mapping;
    private final ModelState model;

    public JobsApi(JobService service, JobStore store, ImageRequestMapping mapping, ModelState model) {
        this.service = service;
        this.store = store;
        this.mapping = mapping;
        this.model = model;
    }

    public void register(Router r) {
        r.route("POST", "/v1/jobs", this::submit);
        r.route("GET", "/v1/jobs", this::list);
        r.route("GET", "/v1/jobs/" + ID, this::get);
        r.route("POST", "/v1/jobs/" + ID + "/cancel", this::cancel);
        r.route("GET", "/v1/jobs/" + ID + "/events", this::events);
        r.route("GET", "/v1/images/(job_[0-9a-f]{24}-\\d{1,2})\\.png", this::image);
        // Ids of the wrong shape are a 404 like unknown ones, not a 405 from the list route.
        r.route("GET", "/v1/jobs/[^/]+(/events)?", req -> { throw new ApiException(404, "job_not_found", null, "no job with that id"); });
        r.route("POST", "/v1/jobs/[^/]+/cancel", req -> { throw new ApiException(404, "job_not_found", null, "no job with that id"); });
    }

    private void submit(Request req) throws IOException {
        var mapped = mapping.map(req.jsonObject());
        model.requireReady();
        Job job = service.submit(mapped.request());
        req.json(202, JobView.of(job, service, req.baseUrl()), Map.of("Location", "/v1/jobs/" + job.id()));
    }

    private void list(Request req) throws IOException {
        int limit = 50;
        String l = req.query("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                throw ApiException.badField("limit", "must be a whole number");
            }
            if (limit < 1 || limit > 1000) throw ApiException.badField("limit", "must be from 1 to 1000");
        }
        List<Object> data = new ArrayList<>();
        for (Job j : service.recent(limit)) data.add(JobView.of(j, service, req.baseUrl()));
        req.json(200, Map.of("object", "list", "data", data));
    }

    private void get(Request req) throws IOException {
        Job job = service.get(req.pathPart(1));
        req.json(200, JobView.of(job, service, req.baseUrl()));
    }

    private void cancel(Request req) throws IOException {
        Job job = service.get(req.pathPart(1));
        service.cancel(job);
        req.json(200, JobView.of(job, service, req.baseUrl()));
    }

    /**
     * The job's life as events: {@code status} (the job as now), a {@code progress} event per
     * denoising step, then one final event, {@code completed}, {@code failed} or {@code cancelled},
     * carrying the job as {@code GET /v1/jobs/{id}} shows it, after which the stream ends. A stream
     * that joins a running job first gets the steps already done. A job re-queued by a shutdown
     * sends {@code status} again. Events are queued, never dropped.
     */
    private void events(Request req) throws IOException {
        Job job = service.get(req.pathPart(1));
        String base = req.baseUrl();
        LinkedBlockingQueue<Object> pending = new LinkedBlockingQueue<>();
        Object stateChanged = new Object();
        Job.Listener listener = new Job.Listener() {
            @Override
            public void onStep(Job.Snapshot progress) { pending.add(JobView.progress(progress)); }

            @Override
            public void onState(Job j) { pending.add(stateChanged); }
        };
        List<Job.Snapshot> earlier = job.subscribe(listener);
        try (EventStream out = new EventStream(req.stream(200, "text/event-stream"))) {
            out.send("status", JobView.of(job, service, base));
            for (Job.Snapshot s : earlier) out.send("progress", JobView.progress(s));
            while (!job.state().isFinal()) {
                Object e = pending.poll(KEEP_ALIVE_SECONDS, TimeUnit.SECONDS);
                if (e == null) out.keepAlive();
                else if (e == stateChanged) {
                    if (!job.state().isFinal()) out.send("status", JobView.of(job, service, base));
                } else out.send("progress", e);
            }
            // Steps announced before the final state are sent first, so the bar reaches its end.
            for (Object e; (e = pending.poll()) != null; ) if (e != stateChanged) out.send("progress", e);
            out.send(job.state().wire(), JobView.of(job, service, base));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            job.removeListener(listener);
        }
    }

    private void image(Request req) throws IOException {
        String imageId = req.pathPart(1);
        byte[] png = store.readImage(imageId);
        if (png == null) throw new ApiException(404, "image_not_found", null, "no image " + imageId);
        req.send(200, "image/png", png, Map.of("Cache-Control", "private, max-age=31536000, immutable"));
    }
}
