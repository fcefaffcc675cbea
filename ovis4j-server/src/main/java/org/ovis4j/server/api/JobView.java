package org.ovis4j.server.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.server.job.Job;
import org.ovis4j.server.job.JobService;

/** A job as {@code GET /v1/jobs/{id}} and the event stream show it. */
final class JobView {
    private JobView() {}

    static Map<String, Object> of(Job job, JobService service, String baseUrl) {
        Job.Snapshot s = job.snapshot();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("object", "image.job");
        m.put("status", s.state().wire());
        m.put("created", s.createdMillis() / 1000);
        m.put("poll_url", baseUrl + "/v1/jobs/" + s.id());
        m.put("events_url", baseUrl + "/v1/jobs/" + s.id() + "/events");
        m.put("request", s.request().toJson());
        switch (s.state()) {
            case QUEUED -> m.put("position", (long) service.position(job));
            case RUNNING -> m.put("progress", progress(s));
            case COMPLETED -> {
                List<Object> images = new ArrayList<>();
                for (String id : s.imageIds()) images.add(Map.of("id", id, "url", imageUrl(baseUrl, id)));
                m.put("images", images);
            }
            case FAILED -> m.put("error", s.error().toJson());
            case CANCELLED -> {}
        }
        if (s.startedMillis() > 0) m.put("started", s.startedMillis() / 1000);
        if (s.state().isFinal()) m.put("finished", s.finishedMillis() / 1000);
        m.put("attempts", (long) s.attempts());
        return m;
    }

    static Map<String, Object> progress(Job.Snapshot s) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("image", (long) s.image() + 1);
        p.put("images", (long) s.request().n());
        p.put("step", (long) s.step());
        p.put("steps", (long) s.steps());
        p.put("eta_seconds", Double.isNaN(s.etaSeconds()) ? null : Math.round(s.etaSeconds() * 10) / 10.0);
        return p;
    }

    static String imageUrl(String baseUrl, String imageId) {
        return baseUrl + "/v1/images/" + imageId + ".png";
    }
}
