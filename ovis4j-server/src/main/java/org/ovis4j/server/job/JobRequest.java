package org.ovis4j.server.job;

import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.pipeline.Generation;

/**
 * What a client asked for, already checked against the server's limits and with every default
 * filled in (the seed included, so that a job re-run after a crash draws the same images).
 */
public record JobRequest(String prompt, String negativePrompt, int width, int height, int steps, float guidance, long seed, int n) {

    /** The generation of image {@code index} of the job: consecutive seeds, as several images of one request. */
    public Generation generation(int index) {
        return Generation.of(prompt).negativePrompt(negativePrompt).size(width, height).steps(steps).guidance(guidance).seed(seed + index);
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", prompt);
        m.put("negative_prompt", negativePrompt);
        m.put("width", (long) width);
        m.put("height", (long) height);
        m.put("steps", (long) steps);
        m.put("guidance", (double) guidance);
        m.put("seed", seed);
        m.put("n", (long) n);
        return m;
    }

    /** From a job file (written by {@link #toJson}). */
    static JobRequest fromJson(Map<?, ?> m) {
        return new JobRequest((String) m.get("prompt"), (String) m.get("negative_prompt"), toInt(m.get("width")), toInt(m.get("height")),
                toInt(m.get("steps")), ((Number) m.get("guidance")).floatValue(), ((Number) m.get("seed")).longValue(), toInt(m.get("n")));
    }

    private static int toInt(Object o) { return Math.toIntExact(((Number) o).longValue()); }
}
