package org.ovis4j.train.run;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.train.optim.AdamW;
import org.ovis4j.train.optim.EmaWeights;

/**
 * The keys every training config shares, whatever it trains (the transformer's {@link TrainConfig},
 * the VAE's {@link VaeTrainConfig}): how long and how the optimizer runs, and where the run writes.
 * {@link RunLoop} runs from these alone; the model-specific keys stay with each config.
 *
 * <pre>
 * batch_size            1
 * steps                 required  optimizer steps of the whole run
 * optimizer             required  AdamW: .lr (required), .beta1 0.9, .beta2 0.999, .eps 1e-8, .weight_decay 0.01
 * schedule              constant  .name: constant, constant_with_warmup or cosine, .warmup_steps 0
 * max_grad_norm         1.0       clip the global gradient norm to this (0: no clipping)
 * ema                   optional  .decay (required), .schedule "fixed" or "diffusers", .min_decay 0, .update_after_step 0
 * seed                  0
 * checkpoint_every      500       steps between checkpoints (the last step always writes one)
 * keep_last             0         checkpoints kept (0: all)
 * output                required  run folder
 * </pre>
 *
 * @param file the config file (for messages)
 */
record RunSettings(Path file, int batchSize, long steps, AdamW.Hyperparameters optimizer, TrainConfig.Schedule schedule,
                   double maxGradNorm, TrainConfig.Ema ema, long seed, long checkpointEvery, int keepLast, Path output) {

    /** The output folder, required; read first by configs whose other keys default to places inside it. */
    static Path output(ConfigObject c) {
        Path output = c.path("output", null);
        if (output == null) c.string("output");
        return output;
    }

    static int batchSize(ConfigObject c) {
        return c.integer("batch_size", 1, 1, 1 << 20);
    }

    static long steps(ConfigObject c) {
        long steps = c.integer("steps");
        if (steps < 1) throw c.error("steps", "must be at least 1, got " + steps);
        return steps;
    }

    static AdamW.Hyperparameters optimizer(ConfigObject c) {
        ConfigObject o = c.object("optimizer");
        if (o == null) c.string("optimizer");
        AdamW.Hyperparameters hp;
        try {
            hp = new AdamW.Hyperparameters(o.number("lr"), o.number("beta1", 0.9), o.number("beta2", 0.999), o.number("eps", 1e-8),
                    o.number("weight_decay", 1e-2));
        } catch (OvisException e) {
            if (e.getMessage().startsWith(c.file().toString())) throw e;
            throw new OvisException(c.file() + ": key \"optimizer\": " + e.getMessage());
        }
        o.finish();
        return hp;
    }

    static TrainConfig.Schedule schedule(ConfigObject c) {
        TrainConfig.Schedule schedule = new TrainConfig.Schedule("constant", 0);
        ConfigObject s = c.object("schedule");
        if (s != null) {
            schedule = new TrainConfig.Schedule(s.choice("name", "constant", "constant", "constant_with_warmup", "cosine"),
                    s.integer("warmup_steps", 0));
            if (schedule.warmupSteps() < 0) throw s.error("warmup_steps", "must not be negative");
            s.finish();
        }
        return schedule;
    }

    static double maxGradNorm(ConfigObject c) {
        double clip = c.number("max_grad_norm", 1.0);
        if (clip < 0) throw c.error("max_grad_norm", "must not be negative (0 turns clipping off)");
        return clip;
    }

    static TrainConfig.Ema ema(ConfigObject c) {
        ConfigObject e = c.object("ema");
        if (e == null) return null;
        EmaWeights.Schedule es = EmaWeights.Schedule.valueOf(e.choice("schedule", "fixed", "fixed", "diffusers").toUpperCase(java.util.Locale.ROOT));
        double decay = e.number("decay");
        TrainConfig.Ema ema;
        try {
            ema = new TrainConfig.Ema(new EmaWeights.Options(es, decay, e.number("min_decay", 0), e.integer("update_after_step", 0)));
        } catch (OvisException ex) {
            throw new OvisException(c.file() + ": key \"ema\": " + ex.getMessage());
        }
        e.finish();
        return ema;
    }

    static long checkpointEvery(ConfigObject c) {
        long every = c.integer("checkpoint_every", 500);
        if (every < 1) throw c.error("checkpoint_every", "must be at least 1");
        return every;
    }

    static int keepLast(ConfigObject c) {
        return c.integer("keep_last", 0, 0, Integer.MAX_VALUE);
    }

    // ---------------------------------------------------------------- fingerprint parts

    Map<String, Object> optimizerJson() {
        return optimizerJson(optimizer);
    }

    Map<String, Object> scheduleJson() {
        return scheduleJson(schedule);
    }

    static Map<String, Object> optimizerJson(AdamW.Hyperparameters optimizer) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("lr", optimizer.lr());
        o.put("beta1", optimizer.beta1());
        o.put("beta2", optimizer.beta2());
        o.put("eps", optimizer.eps());
        o.put("weight_decay", optimizer.weightDecay());
        return o;
    }

    static Map<String, Object> scheduleJson(TrainConfig.Schedule schedule) {
        Map<String, Object> sc = new LinkedHashMap<>();
        sc.put("name", schedule.name());
        sc.put("warmup_steps", schedule.warmupSteps());
        return sc;
    }

    /** The EMA's settings, or null without one. */
    Map<String, Object> emaJson() {
        if (ema == null) return null;
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("decay", ema.options().decay());
        e.put("schedule", ema.options().schedule().name().toLowerCase(java.util.Locale.ROOT));
        e.put("min_decay", ema.options().minDecay());
        e.put("update_after_step", ema.options().updateAfterStep());
        return e;
    }
}
