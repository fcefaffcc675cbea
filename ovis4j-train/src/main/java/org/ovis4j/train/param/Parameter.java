package org.ovis4j.train.param;

import java.util.Arrays;
import org.ovis4j.core.tensor.Tensor;

/**
 * One trainable (or frozen) tensor of a model under training: its diffusers name, its shape, its
 * float32 master values and, when trainable, the gradient accumulated into it by backward passes.
 * Values and gradient are flat row-major arrays in the PyTorch layout ([out, in] for linear weights,
 * [out, in, kh, kw] for convolutions), so kernels index them directly.
 */
public final class Parameter {
    private final String name;
    private final long[] shape;
    private final float[] value;
    private final float[] grad;

    private Parameter(String name, long[] shape, float[] value, boolean trainable) {
        if (Tensor.numel(shape) != value.length)
            throw new IllegalArgumentException(name + ": " + value.length + " values for shape " + Arrays.toString(shape));
        this.name = name;
        this.shape = shape.clone();
        this.value = value;
        this.grad = trainable ? new float[value.length] : null;
    }

    /** A trainable parameter owning {@code value} (not copied). */
    public static Parameter trainable(String name, long[] shape, float[] value) {
        return new Parameter(name, shape, value, true);
    }

    /** A frozen parameter: used by forward and backward, never updated, no gradient kept. */
    public static Parameter frozen(String name, long[] shape, float[] value) {
        return new Parameter(name, shape, value, false);
    }

    /** A trainable parameter initialised from a checkpoint tensor (widened to float32 once). */
    public static Parameter fromTensor(String name, Tensor t, boolean trainable) {
        return new Parameter(name, t.shape(), t.toFloats(), trainable);
    }

    public String name() { return name; }
    public long[] shape() { return shape.clone(); }
    public int size() { return value.length; }
    public boolean trainable() { return grad != null; }

    /** The float32 master values, updated in place by the optimizer. */
    public float[] value() { return value; }

    /** The gradient (same layout as {@link #value()}); backward passes add into it. Null when frozen. */
    public float[] grad() { return grad; }

    public void zeroGrad() {
        if (grad != null) Arrays.fill(grad, 0f);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + (trainable() ? "" : " (frozen)");
    }
}
