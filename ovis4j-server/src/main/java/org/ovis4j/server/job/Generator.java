package org.ovis4j.server.job;

import org.ovis4j.pipeline.GeneratedImage;
import org.ovis4j.pipeline.Generation;

/**
 * What a worker runs a job's generations on: a loaded {@code OvisImage} ({@code model::generate}),
 * used by one worker at a time. Cancellation and progress travel with the {@link Generation}.
 */
@FunctionalInterface
public interface Generator {
    GeneratedImage generate(Generation g);
}
