package org.ovis4j.core.kernel;

import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.Tensor;

/**
 * 2-D convolution over channels-last images x [H, W, Cin] → y [Ho, Wo, Cout], as im2col plus the
 * shared GEMM: the weight [Cout, Cin, kh, kw] is read in place as a [Cout, Cin·kh·kw] matrix, so the
 * column order of the patches is (ci, ky, kx). Patches are built for a band of output rows at a time
 * to bound memory.
 */
public final class Conv2d {
    private final Linear matmul;
    private final int cin, cout, kh, kw;

    public Conv2d(Tensor weight, Tensor bias) {
        if (weight.rank() != 4) throw new OvisException(weight.name() + ": expected a 4-D conv weight");
        this.cout = Math.toIntExact(weight.dim(0));
        this.cin = Math.toIntExact(weight.dim(1));
        this.kh = Math.toIntExact(weight.dim(2));
        this.kw = Math.toIntExact(weight.dim(3));
        this.matmul = new Linear(weight.reshape(cout, (long) cin * kh * kw), bias);
    }

    public int in() { return cin; }
    public int out() { return cout; }

    /**
     * padTop/padLeft zeros before, padBottom/padRight after; returns y with Ho = (H + pt + pb − kh)/stride + 1.
     */
    public float[] forward(float[] x, int h, int w, int stride, int padTop, int padLeft, int padBottom, int padRight,
                           int[] outHw) {
        int ho = (h + padTop + padBottom - kh) / stride + 1;
        int wo = (w + padLeft + padRight - kw) / stride + 1;
        outHw[0] = ho;
        outHw[1] = wo;
        float[] y = new float[ho * wo * cout];
        int k = cin * kh * kw;
        if (kh == 1 && kw == 1 && stride == 1 && padTop == 0 && padLeft == 0) {
            matmul.forward(x, h * w, y);
            return y;
        }
        int bandRows = Math.max(1, Math.min(ho, (1 << 22) / Math.max(1, wo * k)));
        float[] cols = new float[bandRows * wo * k];
        float[] band = new float[bandRows * wo * cout];
        for (int r0 = 0; r0 < ho; r0 += bandRows) {
            int rows = Math.min(bandRows, ho - r0);
            int rr0 = r0;
            org.ovis4j.core.parallel.Parallel.forEach(rows, rr -> {
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
            matmul.forward(cols, rows * wo, band);
            System.arraycopy(band, 0, y, r0 * wo * cout, rows * wo * cout);
        }
        return y;
    }
}
