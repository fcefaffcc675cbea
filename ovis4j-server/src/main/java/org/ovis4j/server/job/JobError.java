package org.ovis4j.server.job;

import java.util.LinkedHashMap;
import java.util.Map;

/** Why a job failed: a stable code and a one-line message. */
public record JobError(String code, String message) {
    /** The server stopped (crash or kill) while the job ran, and it had already been tried as often as allowed. */
    public static final String INTERRUPTED = "interrupted";
    /** The pipeline refused the request (an {@code OvisException}). */
    public static final String GENERATION_FAILED = "generation_failed";
    public static final String OUT_OF_MEMORY = "out_of_memory";
    public static final String INTERNAL = "internal_error";

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("code", code);
        m.put("message", message);
        return m;
    }

    static JobError fromJson(Map<?, ?> m) {
        return m == null ? null : new JobError((String) m.get("code"), (String) m.get("message"));
    }
}
