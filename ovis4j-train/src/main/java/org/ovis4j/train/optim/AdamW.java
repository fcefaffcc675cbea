package org.ovis4j.train.optim;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

/**
 * AdamW with the semantics and the float32 arithmetic of PyTorch's {@code torch.optim.AdamW} as it runs
 * on CPU (the single-tensor implementation, {@code _single_tensor_adam} with decoupled weight decay; no
 * amsgrad, no maximize). Every trainable parameter of the walk has a float32 first moment
 * {@code exp_avg} and second moment {@code exp_avg_sq}; one step count serves all of them (they are
 * always stepped together). Per element, at step t:
 *
 * <pre>
 *   p ← p · (1 − lr·wd)                                   decoupled decay, before the moments
 *   m ← m + (1 − β1)·(g − m)                              torch's lerp_, fused (one rounding)
 *   v ← v·β2 + ((1 − β2)·g)·g                             mul_ then addcmul_; the last multiply-add fused
 *   p ← p + ((−lr/(1 − β1ᵗ))·m) / (sqrt(v)/sqrt(1 − β2ᵗ) + eps)      addcdiv_ with value = −step_size
 * </pre>
 *
 * The scalars are computed in double as Python does ({@code 1 − β1**t}, {@code lr / bias_correction1},
 * {@code math.sqrt(bias_correction2)}) and used as float32, as ATen converts a Python scalar to the
 * tensor's type. The fused operations match what torch's compiled CPU kernels do (the vectorised lerp is
 * an explicit fmadd; the addcmul kernel's {@code self + value*t1*t2} is contracted to one fma); this was
 * read off the goldens, where both moments after step 2 are reproduced on every element, and an unfused
 * addcmul would miss 15 % of them. The one known difference: torch's float32 {@code sqrt} goes through
 * MKL's vector math library (ATen's {@code vml.h}), which is not correctly rounded; Java's is. On the
 * goldens the parameters differ on 0.56 % of the elements after step 1 (0.37 % after step 2), by at
 * most 3e-8 (one ulp of the parameter or two of the update), and every one of those becomes exact when
 * sqrt(v) is moved by one ulp.
 *
 * <p>The optimizer does not clip ({@link GradClip}) or schedule ({@link LearningRateSchedule}); the
 * training step calls them around {@link #step(double)}. Its state is written and read back bit-exactly
 * ({@link #write}, {@link #read}).
 */
public final class AdamW {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Elements per parallel task: large enough to amortise a task, small enough to balance two to 64 cores. */
    private static final int CHUNK = 1 << 15;
    static final String FORMAT = "ovis4j-adamw";

    /** torch.optim.AdamW's constructor arguments (its defaults are lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0.01). */
    public record Hyperparameters(double lr, double beta1, double beta2, double eps, double weightDecay) {
        public Hyperparameters {
            if (!(lr >= 0) || !(eps >= 0) || !(weightDecay >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
                throw new OvisException("AdamW: invalid hyperparameters lr=" + lr + " betas=(" + beta1 + ", " + beta2
                        + ") eps=" + eps + " weight_decay=" + weightDecay);
        }

        public static Hyperparameters torchDefaults() {
            return new Hyperparameters(1e-3, 0.9, 0.999, 1e-8, 1e-2);
        }
    }

    /** The float32 scalars of one step, each computed exactly as torch computes it (see the class comment). */
    record StepScalars(float decay, float oneMinusBeta1, float beta2, float oneMinusBeta2, float negStepSize,
                       float biasCorrection2Sqrt, float eps) {
        static StepScalars of(Hyperparameters hp, double lr, long t) {
            double biasCorrection1 = 1 - StrictMath.pow(hp.beta1(), t);
            double biasCorrection2 = 1 - StrictMath.pow(hp.beta2(), t);
            double stepSize = lr / biasCorrection1;
            return new StepScalars((float) (1 - lr * hp.weightDecay()), (float) (1 - hp.beta1()), (float) hp.beta2(),
                    (float) (1 - hp.beta2()), (float) -stepSize, (float) Math.sqrt(biasCorrection2), (float) hp.eps());
        }
    }

    private record Chunk(int param, int from, int to) {}

    private final Hyperparameters hp;
    private final List<Parameter> params;
    private final float[][] expAvg, expAvgSq;
    private final List<Chunk> chunks = new ArrayList<>();
    private long step;

    /** An optimizer over the trainable parameters of {@code model}, with zero moments and step 0. */
    public AdamW(Parameters model, Hyperparameters hp) {
        this.hp = hp;
        this.params = model.trainable();
        if (params.isEmpty()) throw new OvisException("AdamW: the model has no trainable parameters");
        expAvg = new float[params.size()][];
        expAvgSq = new float[params.size()][];
        for (int k = 0; k < params.size(); k++) {
            int n = params.get(k).size();
            expAvg[k] = new float[n];
            expAvgSq[k] = new float[n];
            for (int from = 0; from < n; from += CHUNK) chunks.add(new Chunk(k, from, Math.min(n, from + CHUNK)));
        }
    }

    public Hyperparameters hyperparameters() { return hp; }

    /** Steps taken so far (torch's {@code state["step"]}). */
    public long steps() { return step; }

    /** The parameters this optimizer updates, in the walk's order. */
    public List<Parameter> parameters() { return params; }

    /** The first moment of a parameter (live array, updated in place). */
    public float[] expAvg(String name) { return expAvg[index(name)]; }

    /** The second moment of a parameter (live array, updated in place). */
    public float[] expAvgSq(String name) { return expAvgSq[index(name)]; }

    private int index(String name) {
        for (int k = 0; k < params.size(); k++) if (params.get(k).name().equals(name)) return k;
        throw new OvisException("AdamW: no trainable parameter named " + name);
    }

    /** One step at the base learning rate. */
    public void step() {
        step(hp.lr());
    }

    /** One step at learning rate {@code lr} (a schedule's value for this step), using each parameter's grad. */
    public void step(double lr) {
        if (!(lr >= 0)) throw new OvisException("AdamW: invalid learning rate " + lr);
        StepScalars c = StepScalars.of(hp, lr, step + 1);
        Parallel.forEach(chunks.size(), t -> {
            Chunk ch = chunks.get(t);
            Parameter p = params.get(ch.param);
            update(p.value(), p.grad(), expAvg[ch.param], expAvgSq[ch.param], ch.from, ch.to, c);
        });
        step++;
    }

    /** The element-wise update of [from, to); the vector and the scalar tail compute the same roundings. */
    static void update(float[] p, float[] g, float[] m, float[] v, int from, int to, StepScalars c) {
        FloatVector w1 = FloatVector.broadcast(S, c.oneMinusBeta1());
        int i = from;
        for (int end = from + S.loopBound(to - from); i < end; i += S.length()) {
            FloatVector gi = FloatVector.fromArray(S, g, i);
            FloatVector pi = FloatVector.fromArray(S, p, i).mul(c.decay());
            FloatVector mi = FloatVector.fromArray(S, m, i);
            mi = gi.sub(mi).fma(w1, mi);
            FloatVector vi = gi.mul(c.oneMinusBeta2()).fma(gi, FloatVector.fromArray(S, v, i).mul(c.beta2()));
            FloatVector denom = vi.sqrt().div(c.biasCorrection2Sqrt()).add(c.eps());
            pi.add(mi.mul(c.negStepSize()).div(denom)).intoArray(p, i);
            mi.intoArray(m, i);
            vi.intoArray(v, i);
        }
        for (; i < to; i++) {
            float gi = g[i], pi = p[i] * c.decay();
            float mi = Math.fma(gi - m[i], c.oneMinusBeta1(), m[i]);
            float vi = Math.fma(gi * c.oneMinusBeta2(), gi, v[i] * c.beta2());
            float denom = (float) Math.sqrt(vi) / c.biasCorrection2Sqrt() + c.eps();
            p[i] = pi + mi * c.negStepSize() / denom;
            m[i] = mi;
            v[i] = vi;
        }
    }

    // ---------------------------------------------------------------- state

    /**
     * Writes the state atomically: {@code exp_avg.<name>} and {@code exp_avg_sq.<name>} (F32, parameter
     * shape) and, in the metadata, the step count and the hyperparameters (decimal strings that parse back
     * to the same doubles).
     */
    public void write(Path file) {
        SafetensorsWriter w = new SafetensorsWriter();
        for (int k = 0; k < params.size(); k++) {
            Parameter p = params.get(k);
            w.addFloats("exp_avg." + p.name(), DType.F32, p.shape(), expAvg[k]);
            w.addFloats("exp_avg_sq." + p.name(), DType.F32, p.shape(), expAvgSq[k]);
        }
        w.metadata("format", FORMAT);
        w.metadata("step", Long.toString(step));
        hyperparameterMetadata().forEach(w::metadata);
        w.write(file);
    }

    private Map<String, String> hyperparameterMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("lr", Double.toString(hp.lr()));
        m.put("beta1", Double.toString(hp.beta1()));
        m.put("beta2", Double.toString(hp.beta2()));
        m.put("eps", Double.toString(hp.eps()));
        m.put("weight_decay", Double.toString(hp.weightDecay()));
        return m;
    }

    /**
     * Restores a state written by {@link #write}: the moments of every trainable parameter and the step
     * count, bit for bit. The file must hold exactly this optimizer's parameters with their shapes and
     * have been written with the same betas, eps and weight decay (a changed learning rate is allowed:
     * it comes from the schedule of the resumed run).
     */
    public void read(Path file) {
        try (StateFile f = StateFile.open(file, FORMAT)) {
            for (String key : new String[] {"beta1", "beta2", "eps", "weight_decay"}) {
                String mine = hyperparameterMetadata().get(key), saved = f.metadata(key);
                if (Double.parseDouble(saved) != Double.parseDouble(mine))
                    throw new OvisException(file + ": optimizer state was saved with " + key + "=" + saved + ", this run uses " + mine);
            }
            List<String> expected = new ArrayList<>();
            for (int k = 0; k < params.size(); k++) {
                Parameter p = params.get(k);
                f.readFloats("exp_avg." + p.name(), p.shape(), expAvg[k]);
                f.readFloats("exp_avg_sq." + p.name(), p.shape(), expAvgSq[k]);
                expected.add("exp_avg." + p.name());
                expected.add("exp_avg_sq." + p.name());
            }
            f.requireOnly(expected);
            step = f.longMetadata("step");
        }
    }
}
