package org.ovis4j.core.kernel;

import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.Tensor;

/**
 * A fully connected layer y = x·Wᵀ + b with W stored [out, in] (PyTorch layout) in its checkpoint
 * dtype and used in place; only small KC x NR blocks are widened while multiplying.
 */
public final class Linear implements Gemm.PanelSource {
    private final Tensor weight;
    private final float[] bias;
    private final int in, out;
    private final ThreadLocal<float[]> row = ThreadLocal.withInitial(() -> new float[Gemm.KC]);

    public Linear(Tensor weight, Tensor bias) {
        if (weight.rank() != 2) throw new OvisException(weight.name() + ": expected a 2-D weight, got rank " + weight.rank());
        if (!weight.dtype().isFloat()) throw new OvisException(weight.name() + ": weights must be a float type, got " + weight.dtype());
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
        Gemm.gemm(x, in, rows, in, this, out, bias, y, out, 0, false);
    }

    /** Like {@link #forward} but writes into columns [yOff, yOff + out) of rows of width ldy. */
    public void forward(float[] x, int ldx, int rows, float[] y, int ldy, int yOff) {
        Gemm.gemm(x, ldx, rows, in, this, out, bias, y, ldy, yOff, false);
    }

    /** Rows of x starting at element xOff (width in) into rows of y starting at element yOff (width out). */
    public void forward(float[] x, int xOff, int rows, float[] y, int yOff) {
        Gemm.gemm(x, xOff, in, rows, in, this, out, bias, y, out, yOff, false);
    }

    /** The general form: x rows of stride ldx from xOff; y rows of stride ldy, columns from yOff. */
    public void forward(float[] x, int xOff, int ldx, int rows, float[] y, int ldy, int yOff) {
        Gemm.gemm(x, xOff, ldx, rows, in, this, out, bias, y, ldy, yOff, false);
    }

    /** y += x·Wᵀ + b. */
    public void forwardAdd(float[] x, int rows, float[] y) {
        Gemm.gemm(x, in, rows, in, this, out, null, y, out, 0, true);
        if (bias != null) for (int r = 0; r < rows; r++) for (int j = 0; j < out; j++) y[r * out + j] += bias[j];
    }

    /** Allocates and returns x·Wᵀ + b. */
    public float[] apply(float[] x, int rows) {
        float[] y = new float[rows * out];
        forward(x, rows, y);
        return y;
    }

    @Override
    public void pack(int n0, int nr, int k0, int kc, float[] panel, int off) {
        float[] buf = row.get();
        final int NR = Gemm.NR;
        for (int j = 0; j < NR; j++) {
            if (j < nr) {
                Widen.read(weight, (long) (n0 + j) * in + k0, buf, 0, kc);
                for (int kk = 0; kk < kc; kk++) panel[off + kk * NR + j] = buf[kk];
            } else {
                for (int kk = 0; kk < kc; kk++) panel[off + kk * NR + j] = 0f;
            }
        }
    }
}
