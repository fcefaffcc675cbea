package org.ovis4j.train.optim;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

/**
 * An exponential moving average of the trainable weights (float32 shadow copies), updated after each
 * optimizer step as diffusers' {@code EMAModel.step} does:
 * {@code shadow ← shadow − (1 − d)·(shadow − param)}, in float32 ((1 − d) a float32 scalar, the
 * difference rounded, then the product). The shadows start as copies of the parameters.
 *
 * <p>The decay d of update number t (1-based) follows one of two rules ({@link Schedule}):
 * <ul>
 *   <li>{@link Schedule#FIXED}: d every update — the textbook EMA;</li>
 *   <li>{@link Schedule#DIFFUSERS}: diffusers' {@code EMAModel.get_decay} with {@code use_ema_warmup=False}
 *       (its default): with s = max(0, t − update_after_step − 1), d = 0 when s = 0 (the shadow takes the
 *       weights), else min(decay, (1 + s)/(10 + s)), and at least min_decay.</li>
 * </ul>
 * (diffusers' other form, {@code use_ema_warmup=True}, 1 − (1 + s/inv_gamma)^−power, is not offered.)
 */
public final class EmaWeights {
    static final String FORMAT = "ovis4j-ema";

    public enum Schedule { FIXED, DIFFUSERS }

    /** decay and, for {@link Schedule#DIFFUSERS}, min_decay and update_after_step (diffusers' defaults 0.9999, 0, 0). */
    public record Options(Schedule schedule, double decay, double minDecay, long updateAfterStep) {
        public Options {
            if (!(decay >= 0 && decay <= 1) || !(minDecay >= 0 && minDecay <= decay) || updateAfterStep < 0)
                throw new OvisException("EMA: invalid options decay=" + decay + " min_decay=" + minDecay
                        + " update_after_step=" + updateAfterStep);
        }

        public static Options fixed(double decay) {
            return new Options(Schedule.FIXED, decay, 0, 0);
        }

        public static Options diffusers(double decay) {
            return new Options(Schedule.DIFFUSERS, decay, 0, 0);
        }
    }

    private final Options options;
    private final List<Parameter> params;
    private final float[][] shadow;
    private long updates;

    public EmaWeights(Parameters model, Options options) {
        this.options = options;
        this.params = model.trainable();
        shadow = new float[params.size()][];
        for (int k = 0; k < params.size(); k++) shadow[k] = params.get(k).value().clone();
    }

    /** The decay of update number {@code t} (1-based). */
    public double decay(long t) {
        if (options.schedule() == Schedule.FIXED) return options.decay();
        long s = Math.max(0, t - options.updateAfterStep() - 1);
        if (s <= 0) return 0.0;
        double d = Math.min((1.0 + s) / (10.0 + s), options.decay());
        return Math.max(d, options.minDecay());
    }

    /** Moves every shadow towards the current weights; call after each optimizer step. */
    public void update() {
        updates++;
        float oneMinusDecay = (float) (1 - decay(updates));
        Parallel.forEach(params.size(), k -> {
            float[] s = shadow[k], p = params.get(k).value();
            for (int i = 0; i < s.length; i++) s[i] -= oneMinusDecay * (s[i] - p[i]);
        });
    }

    public long updates() { return updates; }

    /** The averaged weights of a parameter (live array). */
    public float[] shadow(String name) {
        for (int k = 0; k < params.size(); k++) if (params.get(k).name().equals(name)) return shadow[k];
        throw new OvisException("EMA: no trainable parameter named " + name);
    }

    /** Writes {@code ema.<name>} (F32) and the update count atomically. */
    public void write(Path file) {
        SafetensorsWriter w = new SafetensorsWriter();
        for (int k = 0; k < params.size(); k++) w.addFloats("ema." + params.get(k).name(), DType.F32, params.get(k).shape(), shadow[k]);
        w.metadata("format", FORMAT);
        w.metadata("updates", Long.toString(updates));
        w.metadata("schedule", options.schedule().name());
        w.metadata("decay", Double.toString(options.decay()));
        w.write(file);
    }

    /** Restores the shadows and the update count written by {@link #write}, bit for bit. */
    public void read(Path file) {
        try (StateFile f = StateFile.open(file, FORMAT)) {
            List<String> expected = new ArrayList<>();
            for (int k = 0; k < params.size(); k++) {
                String name = "ema." + params.get(k).name();
                f.readFloats(name, params.get(k).shape(), shadow[k]);
                expected.add(name);
            }
            f.requireOnly(expected);
            updates = f.longMetadata("updates");
        }
    }
}
