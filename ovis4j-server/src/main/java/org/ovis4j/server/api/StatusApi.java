package org.ovis4j.server.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.server.http.Request;
import org.ovis4j.server.http.Router;
import org.ovis4j.server.job.JobService;
import org.ovis4j.server.metrics.Metrics;

/** {@code GET /health} (open, 503 until the model is loaded) and {@code GET /metrics} (Prometheus text). */
public final class StatusApi {
    private final JobService service;
    private final Metrics metrics;
    private final ModelState model;
    private final Limits limits;
    private final boolean keyRequired;

    public StatusApi(JobService service, Metrics metrics, ModelState model, Limits limits, boolean keyRequired) {
        this.service = service;
        this.metrics = metrics;
        this.model = model;
        this.limits = limits;
        this.keyRequired = keyRequired;
    }

    public void register(Router r) {
        r.open("GET", "/health", this::health);
        r.route("GET", "/metrics", this::metrics);
    }

    private void health(Request req) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        String status = model.failure() != null ? "failed" : !model.ready() ? "loading" : service.stopping() ? "stopping" : "ok";
        m.put("status", status);
        m.put("model", model.id());
        if (model.failure() != null) m.put("error", model.failure());
        var g = service.gauges();
        m.put("queue", Map.of("length", (long) g.queueLength(), "capacity", (long) g.queueCapacity()));
        m.put("workers", (long) g.workers());
        m.put("limits", limits.toJson());
        m.put("api_key_required", keyRequired);
        req.json(status.equals("ok") ? 200 : 503, m);
    }

    private void metrics(Request req) throws IOException {
        req.send(200, "text/plain; version=0.0.4; charset=utf-8", metrics.exposition(service.gauges()).getBytes(StandardCharsets.UTF_8), Map.of());
    }
}
