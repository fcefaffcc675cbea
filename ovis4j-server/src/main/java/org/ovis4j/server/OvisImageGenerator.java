package org.ovis4j.server;

import org.ovis4j.pipeline.GeneratedImage;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.server.job.Generator;

/** A loaded model as a worker's generator; closing it unmaps the weights. */
public final class OvisImageGenerator implements Generator, AutoCloseable {
    private final OvisImage model;

    public OvisImageGenerator(OvisImage model) {
        this.model = model;
    }

    @Override
    public GeneratedImage generate(Generation g) {
        return model.generate(g);
    }

    @Override
    public void close() {
        model.close();
    }
}
