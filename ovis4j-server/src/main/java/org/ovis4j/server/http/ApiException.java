package org.ovis4j.server.http;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A request the server refuses, as the client sees it: an HTTP status, a stable machine-readable
 * {@code code}, a one-line message, and the request field at fault when there is one. Thrown by
 * handlers and turned into {@code {"error": {...}}} by the {@link Router}; nothing else becomes a 4xx.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String code;
    private final String param;
    private final Map<String, String> headers = new LinkedHashMap<>();

    public ApiException(int status, String code, String param, String message) {
        super(message, null, false, false); // expected outcomes: no stack trace is ever shown or needed
        this.status = status;
        this.code = code;
        this.param = param;
    }

    /** 400 naming the field at fault. */
    public static ApiException badField(String field, String message) {
        return new ApiException(400, "invalid_value", field, field + ": " + message);
    }

    public ApiException header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    public int status() { return status; }
    public String code() { return code; }
    /** The request field at fault, or null. */
    public String param() { return param; }
    public Map<String, String> headers() { return headers; }

    /** The body: OpenAI's error shape ({@code message, type, param, code}). */
    public Map<String, Object> toJson() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("code", code);
        e.put("message", getMessage());
        e.put("param", param);
        e.put("type", status >= 500 ? "server_error" : "invalid_request_error");
        return Map.of("error", e);
    }
}
