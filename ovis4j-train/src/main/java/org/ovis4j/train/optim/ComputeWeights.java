package org.ovis4j.train.optim;

import java.util.IdentityHashMap;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Floats;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

/**
 * The weights a forward and backward pass read, as distinct from the float32 masters the optimizer
 * updates ({@link Parameter#value()}). With {@link DType#F32} they are the masters themselves (no copy);
 * with {@link DType#BF16} every parameter gets a float32 array holding its master rounded to the nearest
 * bf16 value (round to nearest even, as torch's {@code .to(torch.bfloat16)}), i.e. mixed-precision
 * training with float32 master weights: small updates accumulate in the masters even when they are below
 * bf16's resolution. Kernels keep reading float32 arrays; only the values are bf16-representable.
 *
 * <p>Contract: call {@link #refresh()} after every optimizer step and after restoring a checkpoint;
 * {@link #of(Parameter)} is what the model reads. Frozen parameters never change and are rounded once.
 */
public final class ComputeWeights {
    private final DType dtype;
    private final Parameters params;
    private final Map<Parameter, float[]> rounded = new IdentityHashMap<>();

    private ComputeWeights(Parameters params, DType dtype) {
        this.params = params;
        this.dtype = dtype;
        if (dtype == DType.BF16) {
            for (Parameter p : params) {
                if (p.stored() != null) continue; // read in place in its own dtype: nothing to round
                float[] r = new float[p.size()];
                rounded.put(p, r);
                if (!p.trainable()) roundInto(p.value(), r);
            }
            refresh();
        }
    }

    /** Compute weights for {@code params} in {@code dtype} (F32 or BF16). */
    public static ComputeWeights of(Parameters params, DType dtype) {
        if (dtype != DType.F32 && dtype != DType.BF16)
            throw new OvisException("compute weights must be f32 or bf16, got " + dtype);
        return new ComputeWeights(params, dtype);
    }

    public DType dtype() { return dtype; }

    /** The values a pass reads for {@code p}: the master itself in F32, its bf16-rounded copy in BF16. */
    public float[] of(Parameter p) {
        if (dtype == DType.F32) return p.value();
        if (p.stored() != null) throw new OvisException("compute weights: " + p.name() + " is read in place from the checkpoint");
        float[] r = rounded.get(p);
        if (r == null) throw new OvisException("compute weights: " + p.name() + " is not a parameter of this model");
        return r;
    }

    /** Re-rounds the trainable masters; a no-op in F32. */
    public void refresh() {
        if (dtype == DType.F32) return;
        var trainable = params.trainable();
        Parallel.forEach(trainable.size(), k -> roundInto(trainable.get(k).value(), rounded.get(trainable.get(k))));
    }

    private static void roundInto(float[] src, float[] dst) {
        for (int i = 0; i < src.length; i++) dst[i] = Floats.roundToBf16(src[i]);
    }
}
