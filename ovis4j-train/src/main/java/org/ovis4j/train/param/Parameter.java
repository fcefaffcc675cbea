package org.ovis4j.train.param;

import java.util.Arrays;
import org.ovis4j.core.tensor.Tensor;

/**
 * One trainable (or frozen) tensor of a model under training: its diffusers name, its shape, its
 * float32 master values and, when trainable, the gradient accumulated into it by backward passes.
 * Values and gradient are flat row-major arrays in the PyTorch layout ([out, in] for linear weights,
 * [out, in, kh, kw] for convolutions), so kernels index them directly.
 *
 * <p>A frozen weight may instead stay the checkpoint's stored tensor ({@link #stored(String, Tensor)}):
 * memory-mapped in its own dtype (bf16, f16, f32, Q8_0) and read in place by the kernels, with no
 * float32 copy (a 7B base in float32 would need 29.5 GB). It has no {@link #value()} array.
 */
public final class Parameter {
    private final String name;
    private final long[] shape;
    private final float[] value;
    private final Tensor stored;
    private final float[] grad;

    private Parameter(String name, long[] shape, float[] value, Tensor stored, boolean trainable) {
        long n = Tensor.numel(shape);
        if (value != null && n != value.length)
            throw new IllegalArgumentException(name + ": " + value.length + " values for shape " + Arrays.toString(shape));
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException(name + ": " + n + " values do not fit one array");
        this.name = name;
        this.shape = shape.clone();
        this.value = value;
        this.stored = stored;
        this.grad = trainable ? new float[(int) n] : null;
    }

    /** A trainable parameter owning {@code value} (not copied). */
    public static Parameter trainable(String name, long[] shape, float[] value) {
        return new Parameter(name, shape, value, null, true);
    }

    /** A frozen parameter: used by forward and backward, never updated, no gradient kept. */
    public static Parameter frozen(String name, long[] shape, float[] value) {
        return new Parameter(name, shape, value, null, false);
    }

    /**
     * A frozen parameter that is the checkpoint tensor {@code t} itself, used in place (no copy): the
     * tensor's memory must stay mapped for as long as the parameter is used.
     */
    public static Parameter stored(String name, Tensor t) {
        if (!t.isWeight()) throw new IllegalArgumentException(name + ": " + t.dtype() + " is not a weight dtype");
        return new Parameter(name, t.shape(), null, t, false);
    }

    /** A parameter initialised from a checkpoint tensor (widened to float32 once). */
    public static Parameter fromTensor(String name, Tensor t, boolean trainable) {
        return new Parameter(name, t.shape(), t.toFloats(), null, trainable);
    }

    public String name() { return name; }
    public long[] shape() { return shape.clone(); }
    public int size() { return (int) Tensor.numel(shape); }
    public boolean trainable() { return grad != null; }

    /** The float32 master values, updated in place by the optimizer. A stored parameter has none. */
    public float[] value() {
        if (value == null) throw new IllegalStateException(name + " is the checkpoint's " + stored.dtype() + " tensor used in place; it has no float32 copy");
        return value;
    }

    /** The checkpoint tensor a stored parameter reads in place, or null for one held as float32 values. */
    public Tensor stored() { return stored; }

    /** The gradient (same layout as {@link #value()}); backward passes add into it. Null when frozen. */
    public float[] grad() { return grad; }

    public void zeroGrad() {
        if (grad != null) Arrays.fill(grad, 0f);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + (trainable() ? "" : stored != null ? " (frozen, stored " + stored.dtype() + ")" : " (frozen)");
    }
}
