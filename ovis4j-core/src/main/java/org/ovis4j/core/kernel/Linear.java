package org.ovis4j.core.kernel;

import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.Tensor;

/**
 * A fully connected layer y = x·Wᵀ + b with W stored [out, in] (PyTorch layout). On first use W is
 * prepared once by the process's {@link MatmulBackend} (repacked into the layout its kernel reads)
 * and the memory-mapped original is released from the process, so each weight is resident once.
 */
public final class Linear {
    private final Tensor weight;
    private final float[] bias;
    private final int in, out;
    private final boolean inPlace;
    private volatile boolean int8;
    private volatile MatmulBackend.Prepared prepared;

    public Linear(Tensor weight, Tensor bias) {
        this(weight, bias, false);
    }

    /**
     * A layer whose weights stay where they are (no prepared copy; see {@link JavaMatmul#inPlace}):
     * for models that run few rows per call and whose copy would cost more memory than time saved.
     */
    public static Linear inPlace(Tensor weight, Tensor bias) {
        return new Linear(weight, bias, true);
    }

    private Linear(Tensor weight, Tensor bias, boolean inPlace) {
        this.inPlace = inPlace;
        if (weight.rank() != 2) throw new OvisException(weight.name() + ": expected a 2-D weight, got rank " + weight.rank());
        if (!weight.isWeight()) throw new OvisException(weight.name() + ": weights must be a float type or Q8_0, got " + weight.dtype());
        this.weight = weight;
        this.out = Math.toIntExact(weight.dim(0));
        this.in = Math.toIntExact(weight.dim(1));
        if (bias != null) bias.expectShape(out);
        this.bias = bias == null ? null : bias.toFloats();
    }

    public int in() { return in; }
    public int out() { return out; }
    public Tensor weight() { return weight; }

    /** y[M, out] = x[M, in]·Wᵀ + b. */
    public void forward(float[] x, int rows, float[] y) {
        prepared().multiply(x, 0, in, rows, bias, y, out, 0, false);
    }

    /** Like {@link #forward} but writes into columns [yOff, yOff + out) of rows of width ldy. */
    public void forward(float[] x, int ldx, int rows, float[] y, int ldy, int yOff) {
        prepared().multiply(x, 0, ldx, rows, bias, y, ldy, yOff, false);
    }

    /** Rows of x starting at element xOff (width in) into rows of y starting at element yOff (width out). */
    public void forward(float[] x, int xOff, int rows, float[] y, int yOff) {
        prepared().multiply(x, xOff, in, rows, bias, y, out, yOff, false);
    }

    /** The general form: x rows of stride ldx from xOff; y rows of stride ldy, columns from yOff. */
    public void forward(float[] x, int xOff, int ldx, int rows, float[] y, int ldy, int yOff) {
        prepared().multiply(x, xOff, ldx, rows, bias, y, ldy, yOff, false);
    }

    /** y += x·Wᵀ + b. */
    public void forwardAdd(float[] x, int rows, float[] y) {
        prepared().multiply(x, 0, in, rows, null, y, out, 0, true);
        if (bias != null) for (int r = 0; r < rows; r++) for (int j = 0; j < out; j++) y[r * out + j] += bias[j];
    }

    /** Allocates and returns x·Wᵀ + b. */
    public float[] apply(float[] x, int rows) {
        float[] y = new float[rows * out];
        forward(x, rows, y);
        return y;
    }

    /**
     * Asks for int8 W8A8 multiplication (weights per output channel, activations per row) from the
     * process's backend; must be called before the layer is first used.
     */
    public void useInt8() {
        if (prepared != null || inPlace) throw new IllegalStateException(weight.name() + ": already prepared, or used in place");
        if (!MatmulBackends.current().hasInt8())
            throw new OvisException("int8 needs a backend with an int8 matmul (onednn on a CPU with AMX or VNNI); "
                    + MatmulBackends.current().name() + " has none");
        int8 = true;
    }

    private MatmulBackend.Prepared prepared() {
        MatmulBackend.Prepared p = prepared;
        if (p == null) {
            synchronized (this) {
                p = prepared;
                if (p == null && inPlace) {
                    p = JavaMatmul.INSTANCE.inPlace(weight);
                    prepared = p;
                } else if (p == null) {
                    p = int8 ? MatmulBackends.current().prepareInt8(weight) : MatmulBackends.forWeight(weight).prepare(weight);
                    // The prepared copy replaces the mapped pages (Q8_0 scales included); they stay in the page cache, not in our RSS.
                    weight.releasePages();
                    prepared = p;
                }
            }
        }
        return p;
    }
}
