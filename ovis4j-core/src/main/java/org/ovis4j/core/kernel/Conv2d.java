package org.ovis4j.core.kernel;

import org.ovis4j.core.OvisException;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.tensor.Tensor;

/**
 * 2-D convolution over channels-last images x [H, W, Cin] → y [Ho, Wo, Cout], as im2col plus the
 * shared GEMM: the weight [Cout, Cin, kh, kw] is read in place as a [Cout, Cin·kh·kw] matrix, so the
 * column order of the patches is (ci, ky, kx). Patches are built for a band of output rows at a time
 * to bound memory. The GEMM is a packed {@link Projection} of the given context.
 */
public final class Conv2d {
    private final Projection matmul;
    private final int cin, cout, kh, kw;

    public Conv2d(Tensor weight, Tensor bias, ComputeContext context) {
        if (weight.rank() != 4) throw new OvisException(weight.name() + ": expected a 4-D conv weight");
        this.cout = Math.toIntExact(weight.dim(0));
        this.cin = Math.toIntExact(weight.dim(1));
        this.kh = Math.toIntExact(weight.dim(2));
        this.kw = Math.toIntExact(weight.dim(3));
        this.matmul = context.projection(weight.reshape(cout, (long) cin * kh * kw), bias);
    }

    public int in() { return cin; }
    public int out() { return cout; }

    /** Output rows for h input rows with the given stride and zero padding above and below. */
    public int outHeight(int h, int stride, int padTop, int padBottom) {
        return (h + padTop + padBottom - kh) / stride + 1;
    }

    /** Output columns for w input columns with the given stride and zero padding left and right. */
    public int outWidth(int w, int stride, int padLeft, int padRight) {
        return (w + padLeft + padRight - kw) / stride + 1;
    }

    /**
     * y [Ho, Wo, Cout] (y holds at least that many values) for x [H, W, Cin] with padTop/padLeft zeros
     * before and padBottom/padRight after: Ho = {@link #outHeight}, Wo = {@link #outWidth}.
     */
    public void forward(float[] x, int h, int w, int stride, int padTop, int padLeft, int padBottom, int padRight, float[] y) {
        int ho = outHeight(h, stride, padTop, padBottom), wo = outWidth(w, stride, padLeft, padRight);
        if (y.length < (long) ho * wo * cout) throw new IllegalArgumentException("conv: output holds " + y.length + " values");
        int k = cin * kh * kw;
        if (kh == 1 && kw == 1 && stride == 1 && padTop == 0 && padLeft == 0) {
            matmul.forward(x, h * w, y);
            return;
        }
        int bandRows = Math.max(1, Math.min(ho, BAND_VALUES / Math.max(1, wo * k)));
        float[] cols = bandBuffer(bandRows * wo * k);
        for (int r0 = 0; r0 < ho; r0 += bandRows) {
            int rows = Math.min(bandRows, ho - r0);
            int rr0 = r0;
            Parallel.forEach(rows, rr -> {
                int oy = rr0 + rr;
                for (int ox = 0; ox < wo; ox++) {
                    int dst = (rr * wo + ox) * k;
                    for (int ky = 0; ky < kh; ky++) {
                        int iy = oy * stride + ky - padTop;
                        for (int kx = 0; kx < kw; kx++) {
                            int ix = ox * stride + kx - padLeft;
                            int col = dst + ky * kw + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                for (int ci = 0; ci < cin; ci++) cols[col + ci * kh * kw] = 0f;
                            } else {
                                int src = (iy * w + ix) * cin;
                                for (int ci = 0; ci < cin; ci++) cols[col + ci * kh * kw] = x[src + ci];
                            }
                        }
                    }
                }
            });
            matmul.forward(cols, 0, rows * wo, y, r0 * wo * cout);
        }
    }

    /** Patch values per band: 16 MiB of floats, enough rows to keep the GEMM's row blocks full. */
    private static final int BAND_VALUES = 1 << 22;
    /** The calling thread's patch buffer, kept between calls: a VAE decode makes about 30 of them per tile. */
    private static final ThreadLocal<float[]> BANDS = ThreadLocal.withInitial(() -> new float[0]);

    private static float[] bandBuffer(int n) {
        float[] b = BANDS.get();
        if (b.length < n) {
            BANDS.remove(); // the old one can go before the larger one is allocated
            b = new float[n];
            BANDS.set(b);
        }
        return b;
    }
}
