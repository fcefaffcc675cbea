package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.ovis4j.train.param.Parameters;

/**
 * What {@link RunLoop} trains: the model, its data and its objective. The loop owns everything that
 * is the same for every model (the optimizer, the EMA, the schedule, clipping, the NaN guard, the loss
 * curve, checkpoints and resuming); a task supplies one step's forward and backward and the files of
 * its model in a checkpoint.
 */
interface TrainingTask {
    /** The parameters the optimizer steps (the trainable ones) and the checkpoint holds. */
    Parameters parameters();

    /**
     * The forward of step {@code step} (1-based): draws the step's batch and random values, returns the
     * loss (mean over the batch). The loop checks it is finite before calling {@link #backward}.
     */
    double forward(long step);

    /** The backward of the last {@link #forward}: adds every trainable parameter's gradient to its {@code grad}. */
    void backward();

    /** After the optimizer changed the parameters (before the EMA): e.g. refresh copies made from them (bf16 compute). */
    default void afterUpdate() {}

    /** Writes the model's files into a checkpoint folder being written, each announced to {@code folder}'s seam first. */
    void writeModel(RunFolder folder, Path dir) throws IOException;

    /** Where the data order is after the last batch (JSON values), for {@code state.json}. */
    Map<String, Object> dataPosition();

    /** Records of the data (a resumed run must see the same number). */
    long dataRecords();

    /** After step {@code step} and its checkpoint, if any ({@code last}: the run's final step), e.g. sample images. */
    default void afterStep(long step, boolean last) {}
}
