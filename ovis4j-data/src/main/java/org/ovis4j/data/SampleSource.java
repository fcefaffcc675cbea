package org.ovis4j.data;

import java.util.List;
import java.util.Map;
import org.ovis4j.data.render.RenderedSample;

/**
 * What the synth pipeline draws samples from. Sample {@code index} must depend on the source's
 * settings and the index alone (not on which thread asks or in which order), since that is what
 * makes a seed's shards byte-identical.
 */
public interface SampleSource {
    /**
     * @param sample the pixels and where each line landed (what the quality filter checks)
     * @param record the JSON record stored next to the image; carries {@code id}, {@code prompt},
     *               {@code texts} and {@code lang} as the evaluator's prompt files do
     * @param texts  the text regions the image shows (the duplicate filter compares them)
     */
    record Sample(RenderedSample sample, Map<String, Object> record, List<String> texts) {}

    Sample make(long index, String key);

    /** What the manifest says about the source (mode, languages, inputs), in a fixed order. */
    Map<String, Object> describe();
}
