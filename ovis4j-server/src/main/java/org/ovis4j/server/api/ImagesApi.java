package org.ovis4j.server.api;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.server.http.ApiException;
import org.ovis4j.server.http.Request;
import org.ovis4j.server.http.Router;
import org.ovis4j.server.job.Job;
import org.ovis4j.server.job.JobError;
import org.ovis4j.server.job.JobService;
import org.ovis4j.server.job.JobState;
import org.ovis4j.server.job.JobStore;

/**
 * OpenAI's images API: {@code POST /v1/images/generations} answers when the images are done, and
 * {@code GET /v1/models}. A synchronous request is a job like any other (queued, persisted, shown
 * in {@code /v1/jobs}): it waits its turn, and it survives a restart even if its client does not.
 */
public final class ImagesApi {
    private final JobService service;
    private final JobStore store;
    private final ImageRequestMapping mapping;
    private final ModelState model;
    private final long startedSeconds = System.currentTimeMillis() / 1000;

    public ImagesApi(JobService service, JobStore store, ImageRequestMapping mapping, ModelState model) {
        this.service = service;
        this.store = store;
        this.mapping = mapping;
        this.model = model;
    }

    public void register(Router r) {
        r.route("POST", "/v1/images/generations", this::generate);
        r.route("GET", "/v1/models", this::models);
        r.route("GET", "/v1/models/([^/]+)", this::oneModel);
    }

    private void generate(Request req) throws IOException {
        var mapped = mapping.map(req.jsonObject());
        model.requireReady();
        Job job = service.submit(mapped.request());
        try {
            job.awaitFinal();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "shutting_down", null, "the server is shutting down; the job stays queued as " + job.id());
        }
        Job.Snapshot s = job.snapshot();
        if (s.state() == JobState.CANCELLED)
            throw new ApiException(409, "job_cancelled", null, "job " + job.id() + " was cancelled");
        if (s.state() == JobState.FAILED) {
            JobError e = s.error();
            boolean clientFault = e.code().equals(JobError.GENERATION_FAILED);
            throw new ApiException(clientFault ? 400 : 500, e.code(), null, e.message());
        }
        List<Object> data = new ArrayList<>();
        for (String id : s.imageIds()) {
            Map<String, Object> d = new LinkedHashMap<>();
            if (mapped.asUrl()) d.put("url", JobView.imageUrl(req.baseUrl(), id));
            else d.put("b64_json", Base64.getEncoder().encodeToString(store.readImage(id)));
            d.put("revised_prompt", s.request().prompt());
            data.add(d);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("created", s.finishedMillis() / 1000);
        out.put("data", data);
        out.put("output_format", "png");
        out.put("size", s.request().width() + "x" + s.request().height());
        out.put("job_id", job.id());
        req.json(200, out);
    }

    private Map<String, Object> modelJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", model.id());
        m.put("object", "model");
        m.put("created", startedSeconds);
        m.put("owned_by", "ovis4j");
        return m;
    }

    private void models(Request req) throws IOException {
        req.json(200, Map.of("object", "list", "data", List.of(modelJson())));
    }

    private void oneModel(Request req) throws IOException {
        if (!req.pathPart(1).equals(model.id())) throw new ApiException(404, "model_not_found", null, "this server serves " + model.id() + " only");
        req.json(200, modelJson());
    }
}
