package org.ovis4j.pipeline;

/** Receives progress of one generation; called on the generating thread. */
public interface ProgressListener {
    /** After denoising step {@code step} (1-based) of {@code steps}; {@code stepNanos} is that step's time. */
    void onStep(int step, int steps, long stepNanos);

    /** A stage other than denoising began: "encode prompt", "decode". */
    default void onStage(String stage) {}

    /** Something the user should know that does not stop the run (e.g. a truncated prompt). */
    default void onWarning(String message) {}

    ProgressListener NONE = (step, steps, nanos) -> {};
}
