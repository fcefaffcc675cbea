package org.ovis4j.schedule;

import java.nio.file.Path;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;

/**
 * Flow-matching Euler sampling with the resolution-dependent ("dynamic") shift of FLUX.1 (spec §4),
 * reproducing diffusers' FlowMatchEulerDiscreteScheduler as the Ovis pipeline drives it, including
 * where it rounds to float32.
 */
public final class FlowMatchEulerScheduler {
    private final int numTrainTimesteps;
    private final boolean dynamicShifting;
    private final double shift, baseShift, maxShift;
    private final int baseSeqLen, maxSeqLen;

    public FlowMatchEulerScheduler(int numTrainTimesteps, boolean dynamicShifting, double shift,
                                   double baseShift, double maxShift, int baseSeqLen, int maxSeqLen) {
        this.numTrainTimesteps = numTrainTimesteps;
        this.dynamicShifting = dynamicShifting;
        this.shift = shift;
        this.baseShift = baseShift;
        this.maxShift = maxShift;
        this.baseSeqLen = baseSeqLen;
        this.maxSeqLen = maxSeqLen;
        if (maxSeqLen == baseSeqLen) throw new OvisException("scheduler: max_image_seq_len must differ from base_image_seq_len");
    }

    /** The Ovis-Image (FLUX.1-dev) defaults, also used for keys a config leaves out. */
    public static FlowMatchEulerScheduler defaults() {
        return new FlowMatchEulerScheduler(1000, true, 3.0, 0.5, 1.15, 256, 4096);
    }

    /** Reads scheduler_config.json; only exponential time shift without extra sigma schedules is supported. */
    public static FlowMatchEulerScheduler fromConfig(Path file) {
        Config c = Config.read(file);
        String shiftType = c.getString("time_shift_type", "exponential");
        if (!shiftType.equals("exponential"))
            throw new OvisException(file + ": time_shift_type \"" + shiftType + "\" is not supported (expected exponential)");
        for (String k : new String[] {"use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas", "invert_sigmas",
                "stochastic_sampling"})
            if (c.getBoolean(k, false)) throw new OvisException(file + ": " + k + "=true is not supported");
        if (c.has("shift_terminal")) throw new OvisException(file + ": shift_terminal is not supported");
        return new FlowMatchEulerScheduler(c.getInt("num_train_timesteps", 1000), c.getBoolean("use_dynamic_shifting", false),
                c.getDouble("shift", 1.0), c.getDouble("base_shift", 0.5), c.getDouble("max_shift", 1.15),
                c.getInt("base_image_seq_len", 256), c.getInt("max_image_seq_len", 4096));
    }

    /** μ = linear in the packed image token count, not clamped. */
    public double mu(int imageSeqLen) {
        double m = (maxShift - baseShift) / (maxSeqLen - baseSeqLen);
        double b = baseShift - m * baseSeqLen;
        return imageSeqLen * m + b;
    }

    /** The plan for one image: steps + 1 sigmas (last 0) and the timesteps the model is given. */
    public Schedule schedule(int steps, int imageSeqLen) {
        if (steps < 1) throw new OvisException("steps must be at least 1, got " + steps);
        float[] sigmas = new float[steps + 1];
        float[] timesteps = new float[steps];
        double mu = mu(imageSeqLen);
        float em = (float) Math.exp(mu);
        float sh = (float) shift;
        for (int i = 0; i < steps; i++) {
            // numpy.linspace(1, 1/steps, steps) in float64, then float32 as diffusers stores it
            double base64 = steps == 1 ? 1.0 : 1.0 + i * ((1.0 / steps - 1.0) / (steps - 1));
            float t = (float) base64;
            float s = dynamicShifting ? em / (em + (1f / t - 1f)) : sh * t / (1f + (sh - 1f) * t);
            sigmas[i] = s;
            timesteps[i] = s * numTrainTimesteps;
        }
        sigmas[steps] = 0f;
        return new Schedule(sigmas, timesteps, mu, numTrainTimesteps);
    }

    /** Sigmas, timesteps and μ for one run. */
    public record Schedule(float[] sigmas, float[] timesteps, double mu, int numTrainTimesteps) {
        public int steps() {
            return timesteps.length;
        }

        /** What the transformer receives at step i: timestep/1000 in float32 (not exactly σ_i). */
        public float modelSigma(int i) {
            return timesteps[i] / numTrainTimesteps;
        }

        /** x ← x + (σ_{i+1} − σ_i)·v, in float32 as diffusers does. */
        public void step(int i, float[] x, float[] v) {
            float dt = sigmas[i + 1] - sigmas[i];
            for (int k = 0; k < x.length; k++) x[k] = x[k] + dt * v[k];
        }
    }
}
