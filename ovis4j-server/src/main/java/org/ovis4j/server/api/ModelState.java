package org.ovis4j.server.api;

import org.ovis4j.server.http.ApiException;

/** Whether the model is loaded yet; until it is, generation requests are answered 503. */
public final class ModelState {
    private volatile boolean ready;
    private volatile String failure;
    private final String id;

    public ModelState(String id) {
        this.id = id;
    }

    public String id() { return id; }
    public boolean ready() { return ready; }
    public void loaded() { ready = true; }
    public void failed(String message) { failure = message; }
    public String failure() { return failure; }

    public void requireReady() {
        if (!ready)
            throw new ApiException(503, failure != null ? "model_failed" : "model_loading", null,
                    failure != null ? "the model failed to load: " + failure : "the model is loading; retry shortly").header("Retry-After", "5");
    }
}
