package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.train.optim.AdamW;
import org.ovis4j.train.optim.EmaWeights;
import org.ovis4j.train.optim.GradClip;
import org.ovis4j.train.optim.LearningRateSchedule;
import org.ovis4j.train.param.Parameter;

/**
 * The part of a training run that is the same whatever is trained (the transformer's {@link Trainer},
 * the VAE's {@link VaeTrainer}): the run folder and its checks (a fresh folder, or resuming the run its
 * {@code latest} checkpoint holds, with the same config), AdamW, the EMA, the learning-rate schedule,
 * gradient clipping, the NaN guard, the loss curve and the checkpoint protocol ({@link RunFolder}). One step:
 *
 * <pre>
 *   loss = task.forward(s)  → stop if not finite → task.backward() → clip the global norm → stop if not finite
 *   → AdamW at the schedule's rate → EMA → zero the gradients → loss curve → checkpoint every N steps and at the end
 * </pre>
 *
 * A run is opened in two phases because the task is built from what the loop finds: the loop first
 * reads the checkpoint to resume ({@link #resumeFrom()}, {@link #resumedData()}), the caller builds the
 * task from it, then {@link #attach} reads the optimizer and EMA state into the task's parameters.
 * A non-finite loss or gradient stops the run with a one-line error naming the step; no checkpoint is
 * written after it, so the last one holds the last good weights.
 */
final class RunLoop {
    static final String OPTIMIZER = "optimizer.safetensors", EMA = "ema.safetensors";

    private final RunSettings run;
    private final Map<String, Object> fingerprint;
    private final String fingerprintHash;
    private final RunFolder folder;
    private final Trainer.Listener listener;
    private final Path latest;
    private final TrainState state;
    private TrainingTask task;
    private AdamW optimizer;
    private EmaWeights ema;
    private LearningRateSchedule schedule;
    private LossLog log;
    private long step;
    private double trainSeconds;
    private Path lastCheckpoint;

    /** Checks the output folder (fresh, or resumed from its latest checkpoint with the same fingerprint) and creates it. */
    RunLoop(RunSettings run, Map<String, Object> fingerprint, String fingerprintHash, boolean resume, Trainer.Listener listener,
            RunFolder.Faults faults) {
        this.run = run;
        this.fingerprint = fingerprint;
        this.fingerprintHash = fingerprintHash;
        this.listener = listener;
        this.folder = new RunFolder(run.output(), faults);
        Path found = folder.latest();
        TrainState s = folder.resumeState(resume, run.file(), fingerprint, fingerprintHash);
        this.latest = found;
        this.state = s;
        folder.create();
        folder.removeUnfinished();
    }

    /** The checkpoint being resumed, or null for a fresh run. */
    Path resumeFrom() { return state == null ? null : latest; }

    /** The data position saved in the checkpoint being resumed, or null for a fresh run. */
    Map<String, Object> resumedData() { return state == null ? null : state.data(); }

    /** The step of the checkpoint being resumed (0 for a fresh run). */
    long resumedStep() { return state == null ? 0 : state.step(); }

    /** The data's record count the resumed run trained on (−1 for a fresh run). */
    long resumedRecords() { return state == null ? -1 : state.cacheRecords(); }

    /** Builds the optimizer and EMA over the task's parameters, restoring their state when resuming. */
    void attach(TrainingTask t) {
        if (task != null) throw new IllegalStateException("a task is attached already");
        this.task = t;
        this.optimizer = new AdamW(t.parameters(), run.optimizer());
        this.ema = run.ema() == null ? null : new EmaWeights(t.parameters(), run.ema().options());
        if (state != null) {
            optimizer.read(latest.resolve(OPTIMIZER));
            if (ema != null) ema.read(latest.resolve(EMA));
            if (optimizer.steps() != state.step())
                throw new OvisException(latest.resolve(OPTIMIZER) + ": holds " + optimizer.steps() + " steps, " + TrainState.FILE + " " + state.step());
        }
        this.schedule = LearningRateSchedule.named(run.schedule().name(), run.schedule().warmupSteps(), run.steps());
        this.log = state == null ? new LossLog() : LossLog.read(latest.resolve(LossLog.FILE), state.step());
        this.step = state == null ? 0 : state.step();
        this.trainSeconds = state == null ? 0 : TrainingTime.read(folder.root(), state.step());
        this.lastCheckpoint = latest;
        if (state != null) listener.onMessage("resumed from " + latest + " (step " + step + " of " + run.steps() + ")");
    }

    AdamW optimizer() { return optimizer; }
    /** The EMA of the weights, or null without "ema". */
    EmaWeights ema() { return ema; }
    long step() { return step; }
    /** Wall seconds of the training steps so far, over every process of the run (see {@link TrainingTime}). */
    double trainSeconds() { return trainSeconds; }
    List<LossLog.Row> losses() { return log.rows(); }
    Path root() { return folder.root(); }
    RunFolder folder() { return folder; }
    /** The newest complete checkpoint of this run, or null before the first. */
    Path lastCheckpoint() { return lastCheckpoint; }

    /** A parameter's value as the run hands it out: its EMA when there is one (trainable parameters), else the trained value. */
    float[] handedOut(Parameter p) {
        return ema != null && p.trainable() ? ema.shadow(p.name()) : p.value();
    }

    /** Trains until the config's step count, writing checkpoints on the way. */
    void train() {
        if (step >= run.steps()) {
            listener.onMessage("the run is complete (step " + step + " of " + run.steps() + ")");
            return;
        }
        long timedNanos = 0, timedSteps = 0;
        while (step < run.steps()) {
            long t0 = System.nanoTime();
            LossLog.Row r = trainStep();
            long took = System.nanoTime() - t0;
            timedNanos += took;
            trainSeconds += took / 1e9;
            timedSteps++;
            double perStep = timedNanos / 1e9 / timedSteps;
            listener.onStep(new Trainer.Progress(step, run.steps(), r.loss(), r.lr(), r.gradNorm(), run.batchSize() / perStep,
                    perStep * (run.steps() - step)));
            boolean last = step == run.steps();
            if (step % run.checkpointEvery() == 0 || last) checkpoint();
            task.afterStep(step, last);
        }
    }

    /** One optimizer step; returns its row of the loss curve. */
    private LossLog.Row trainStep() {
        long s = step + 1;
        double loss = task.forward(s);
        if (!Double.isFinite(loss)) throw stopped(s, "the loss is " + loss);
        task.backward();
        List<Parameter> trainable = task.parameters().trainable();
        float norm = run.maxGradNorm() > 0 ? GradClip.clip(trainable, run.maxGradNorm()).totalNorm() : GradClip.totalNorm(trainable);
        if (!Float.isFinite(norm)) throw stopped(s, "the gradient norm is " + norm);
        double lr = schedule.rate(run.optimizer().lr(), s - 1);
        optimizer.step(lr);
        task.afterUpdate();
        if (ema != null) ema.update();
        task.parameters().zeroGrad();
        step = s;
        LossLog.Row row = new LossLog.Row(s, loss, lr, norm);
        log.add(row);
        return row;
    }

    private OvisException stopped(long s, String what) {
        return new OvisException("step " + s + ": " + what + "; training stopped, "
                + (lastCheckpoint == null ? "no checkpoint was written yet" : "the last good checkpoint is " + lastCheckpoint));
    }

    /** Writes checkpoint {@link #step} (atomically, see {@link RunFolder}), then the loss curve and the training time beside it. */
    private void checkpoint() {
        Path dir = folder.checkpoint(step, run.keepLast(), log, this::writeCheckpoint);
        lastCheckpoint = dir;
        TrainingTime.record(folder, step, trainSeconds);
        listener.onCheckpoint(step, dir);
    }

    private void writeCheckpoint(Path dir) throws IOException {
        task.writeModel(folder, dir);
        folder.beforeWrite(dir.resolve(OPTIMIZER));
        optimizer.write(dir.resolve(OPTIMIZER));
        if (ema != null) {
            folder.beforeWrite(dir.resolve(EMA));
            ema.write(dir.resolve(EMA));
        }
        folder.writeAtomically(dir.resolve(LossLog.FILE), log.csv());
        new TrainState(step, run.steps(), run.seed(), fingerprint, fingerprintHash, task.dataPosition(), task.dataRecords(),
                log.rows().getLast().loss()).write(folder, dir);
    }
}
