package org.ovis4j.train.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.kernel.FloatPanels;
import org.ovis4j.core.kernel.Gemm;
import org.ovis4j.core.parallel.Parallel;

/**
 * 2-D convolution with bias over a batch of channels-last maps, x [B, H, W, Cin] → y [B, Ho, Wo, Cout],
 * forward and backward, all three products through the one {@link Gemm}:
 *
 * <pre>
 *   y     = cols · W'ᵀ + b       cols [rows, K] = im2col(x),  K = k·k·Cin in (ky, kx, ci) order
 *   dW'  += dYᵀ · cols           (dY transposed per band: the GEMM's A is row-major)
 *   db   += Σ_rows dY
 *   dcols = dY · W',  dX += col2im(dcols)
 * </pre>
 *
 * W' is the PyTorch weight [Cout, Cin, k, k] with its columns reordered to (ky, kx, ci), a small copy
 * made per call: in that order a patch row is k runs of k·Cin contiguous input values (the kernel's
 * row of pixels, channels-last), copied whole, where PyTorch's (ci, ky, kx) order would scatter every
 * value. dW' is reordered back into the PyTorch layout when added to dWeight. The output rows of all images
 * are processed in bands of whole output lines, so the patch matrix stays bounded whatever the batch;
 * the backward rebuilds each band's patches from x instead of keeping them. A 1×1 convolution without
 * stride or padding (the resnet shortcuts, and the mid-block attention's per-pixel projections, whose
 * [C, C] Linear weights have the same layout as a [C, C, 1, 1] kernel) uses x itself as the patch matrix.
 */
public final class Conv2dOp {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * Patch values per band: 2^18 floats (1 MiB, an L2 cache here), so that the GEMM reads the
     * patches im2col has just written, and col2im the patch gradients the GEMM has just written, from
     * cache rather than memory. Measured on the mid-size benchmark (VaeTrainingBenchmark): 25% less
     * CPU time per training step than with 16 MiB bands, none of it lost to the more numerous calls.
     */
    private static final int BAND_VALUES = 1 << 18;

    private final int cin, cout, k, stride, padTop, padLeft, padBottom, padRight;

    public Conv2dOp(int cin, int cout, int k, int stride, int padTop, int padLeft, int padBottom, int padRight) {
        if (cin <= 0 || cout <= 0 || k <= 0 || stride <= 0 || padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0)
            throw new IllegalArgumentException("conv: bad geometry");
        this.cin = cin;
        this.cout = cout;
        this.k = k;
        this.stride = stride;
        this.padTop = padTop;
        this.padLeft = padLeft;
        this.padBottom = padBottom;
        this.padRight = padRight;
    }

    /** Stride 1 with k/2 zeros on every side (k odd): the map keeps its size. */
    public static Conv2dOp same(int cin, int cout, int k) {
        return new Conv2dOp(cin, cout, k, 1, k / 2, k / 2, k / 2, k / 2);
    }

    /** A 1×1 convolution: a per-pixel linear map Cin → Cout. */
    public static Conv2dOp pointwise(int cin, int cout) {
        return same(cin, cout, 1);
    }

    /** diffusers' Downsample2D with padding 0: zero pad right and bottom by 1, 3×3 conv with stride 2. */
    public static Conv2dOp downsample(int cin, int cout) {
        return new Conv2dOp(cin, cout, 3, 2, 0, 0, 1, 1);
    }

    public int in() { return cin; }
    public int out() { return cout; }
    public int kernel() { return k; }

    /** Weight values: Cout·Cin·k·k. */
    public int weightSize() { return cout * patch(); }

    public int outHeight(int h) { return (h + padTop + padBottom - k) / stride + 1; }
    public int outWidth(int w) { return (w + padLeft + padRight - k) / stride + 1; }

    private int patch() { return cin * k * k; }

    private boolean isPointwise() {
        return k == 1 && stride == 1 && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0;
    }

    private void check(int batch, int h, int w) {
        if (batch <= 0 || h <= 0 || w <= 0 || outHeight(h) <= 0 || outWidth(w) <= 0)
            throw new IllegalArgumentException("conv: input " + batch + " x " + h + " x " + w + " too small for the kernel");
    }

    /** Output lines (one image row each, all images) per band. */
    private int bandLines(int lines, int wo) {
        return Math.max(1, Math.min(lines, BAND_VALUES / Math.max(1, wo * patch())));
    }

    /**
     * y [B, Ho, Wo, Cout] = conv(x [B, H, W, Cin]) + bias (bias may be null), overwriting y.
     */
    public void forward(float[] weight, float[] bias, float[] x, int batch, int h, int w, float[] y, ConvBuffers buf) {
        check(batch, h, w);
        int ho = outHeight(h), wo = outWidth(w), kk = patch(), lines = batch * ho;
        var wt = FloatPanels.transposed(reordered(weight, buf), 0, kk);
        int band = bandLines(lines, wo);
        for (int l0 = 0; l0 < lines; l0 += band) {
            int n = Math.min(band, lines - l0), rows = n * wo;
            if (isPointwise()) {
                Gemm.gemm(x, l0 * wo * cin, cin, rows, cin, wt, cout, bias, y, cout, l0 * wo * cout, false);
            } else {
                float[] cols = buf.cols(rows * kk);
                im2col(x, h, w, ho, wo, l0, n, cols);
                Gemm.gemm(cols, 0, kk, rows, kk, wt, cout, bias, y, cout, l0 * wo * cout, false);
            }
        }
    }

    /**
     * The gradients of {@link #forward} for dY [B, Ho, Wo, Cout]: dWeight [Cout, Cin, k, k] and dBias
     * [Cout] (null: not wanted) are added to, and so is dx [B, H, W, Cin] (null: not wanted). x is the
     * forward's input.
     */
    public void backward(float[] weight, float[] x, int batch, int h, int w, float[] dy,
                         float[] dx, float[] dWeight, float[] dBias, ConvBuffers buf) {
        check(batch, h, w);
        int ho = outHeight(h), wo = outWidth(w), kk = patch(), lines = batch * ho;
        var wRows = FloatPanels.rowMajor(reordered(weight, buf), 0, kk);
        double[] biasSum = dBias != null ? new double[cout] : null;
        float[] dw = dWeight == null ? null : isPointwise() ? dWeight : buf.weightGrad(cout * kk);
        if (dw != null && dw != dWeight) java.util.Arrays.fill(dw, 0, cout * kk, 0f);
        int band = bandLines(lines, wo);
        for (int l0 = 0; l0 < lines; l0 += band) {
            int n = Math.min(band, lines - l0), rows = n * wo, r0 = l0 * wo;
            if (dw != null || dBias != null) {
                float[] dyT = buf.dyT(rows * cout);
                transposeBand(dy, r0, rows, dyT, biasSum);
                if (dw != null) {
                    Gemm.PanelSource cols;
                    if (isPointwise()) {
                        cols = FloatPanels.rowMajor(x, r0 * cin, cin);
                    } else {
                        float[] c = buf.cols(rows * kk);
                        im2col(x, h, w, ho, wo, l0, n, c);
                        cols = FloatPanels.rowMajor(c, 0, kk);
                    }
                    Gemm.gemm(dyT, 0, rows, cout, rows, cols, kk, null, dw, kk, 0, true);
                }
            }
            if (dx != null) {
                if (isPointwise()) {
                    Gemm.gemm(dy, r0 * cout, cout, rows, cout, wRows, kk, null, dx, cin, r0 * cin, true);
                } else {
                    float[] dcols = buf.dcols(rows * kk);
                    Gemm.gemm(dy, r0 * cout, cout, rows, cout, wRows, kk, null, dcols, kk, 0, false);
                    col2imAdd(dcols, h, w, ho, wo, l0, n, dx);
                }
            }
        }
        if (dw != null && dw != dWeight) {
            int taps = k * k;
            for (int o = 0; o < cout; o++)
                for (int t = 0; t < taps; t++)
                    for (int ci = 0; ci < cin; ci++) dWeight[(o * cin + ci) * taps + t] += dw[o * kk + t * cin + ci];
        }
        if (dBias != null) for (int c = 0; c < cout; c++) dBias[c] += (float) biasSum[c];
    }

    /** W' [Cout, (ky, kx, ci)] from the PyTorch weight [Cout, (ci, ky, kx)] (the weight itself for 1×1). */
    private float[] reordered(float[] weight, ConvBuffers buf) {
        if (k == 1) return weight;
        int taps = k * k, kk = patch();
        float[] wr = buf.weight(cout * kk);
        for (int o = 0; o < cout; o++)
            for (int ci = 0; ci < cin; ci++)
                for (int t = 0; t < taps; t++) wr[o * kk + t * cin + ci] = weight[(o * cin + ci) * taps + t];
        return wr;
    }

    /** dyT[c·rows + r] = dy[(r0 + r)·Cout + c]; biasSum[c] += Σ_r of the same values. */
    private void transposeBand(float[] dy, int r0, int rows, float[] dyT, double[] biasSum) {
        Parallel.forEach(cout, c -> {
            double s = 0;
            for (int r = 0, src = r0 * cout + c, dst = c * rows; r < rows; r++, src += cout, dst++) {
                float v = dy[src];
                dyT[dst] = v;
                s += v;
            }
            if (biasSum != null) biasSum[c] += s;
        });
    }

    /**
     * cols[(line − l0)·Wo + ox, (ky·k + kx)·Cin + ci] = x[b, oy·s + ky − padTop, ox·s + kx − padLeft, ci]
     * (0 in the padding) for the output lines [l0, l0 + n), line = b·Ho + oy. For one ky the k taps
     * read k neighbouring pixels: one copy of the part inside the image.
     */
    private void im2col(float[] x, int h, int w, int ho, int wo, int l0, int n, float[] cols) {
        int kk = patch(), run = k * cin;
        Parallel.forEach(n, t -> {
            int line = l0 + t, b = line / ho, oy = line % ho;
            for (int ox = 0; ox < wo; ox++) {
                int dst = (t * wo + ox) * kk, ix0 = ox * stride - padLeft;
                int kx0 = Math.max(0, -ix0), kx1 = Math.min(k, w - ix0); // taps inside the image: [kx0, kx1)
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride + ky - padTop, row = dst + ky * run;
                    if (iy < 0 || iy >= h || kx1 <= kx0) {
                        java.util.Arrays.fill(cols, row, row + run, 0f);
                        continue;
                    }
                    if (kx0 > 0) java.util.Arrays.fill(cols, row, row + kx0 * cin, 0f);
                    System.arraycopy(x, ((b * h + iy) * w + ix0 + kx0) * cin, cols, row + kx0 * cin, (kx1 - kx0) * cin);
                    if (kx1 < k) java.util.Arrays.fill(cols, row + kx1 * cin, row + run, 0f);
                }
            }
        });
    }

    /** a[ai + i] += b[bi + i] for i < n. */
    private static void addRun(float[] a, int ai, float[] b, int bi, int n) {
        int i = 0;
        for (; i + L <= n; i += L)
            FloatVector.fromArray(S, a, ai + i).add(FloatVector.fromArray(S, b, bi + i)).intoArray(a, ai + i);
        for (; i < n; i++) a[ai + i] += b[bi + i];
    }

    /**
     * dx += col2im(dcols) for the output lines [l0, l0 + n): every input pixel gathers the patch
     * entries that read it (runs of Cin contiguous values), so each task writes only its own input
     * line and bands add up in order.
     */
    private void col2imAdd(float[] dcols, int h, int w, int ho, int wo, int l0, int n, float[] dx) {
        int kk = patch(), l1 = l0 + n;
        int bFirst = l0 / ho, bLast = (l1 - 1) / ho;
        // Input lines (b·H + iy) that the band's output lines read.
        int first = bFirst * h + Math.max(0, (l0 - bFirst * ho) * stride - padTop);
        int last = bLast * h + Math.min(h - 1, (l1 - 1 - bLast * ho) * stride - padTop + k - 1);
        if (last < first) return;
        Parallel.forEach(last - first + 1, t -> {
            int gi = first + t, b = gi / h, iy = gi % h, lineStart = (b * h + iy) * w * cin;
            for (int ky = 0; ky < k; ky++) {
                int sy = iy + padTop - ky;
                if (sy < 0 || sy % stride != 0) continue;
                int oy = sy / stride;
                int line = b * ho + oy;
                if (oy >= ho || line < l0 || line >= l1) continue;
                int lineCols = (line - l0) * wo * kk;
                for (int kx = 0; kx < k; kx++) {
                    int tap = (ky * k + kx) * cin;
                    // Input columns ix = ox·s + kx − padLeft for ox in [0, Wo), inside [0, W).
                    int ox0 = 0;
                    while (ox0 * stride + kx - padLeft < 0) ox0++;
                    for (int ox = ox0; ox < wo; ox++) {
                        int ix = ox * stride + kx - padLeft;
                        if (ix >= w) break;
                        addRun(dx, lineStart + ix * cin, dcols, lineCols + ox * kk + tap, cin);
                    }
                }
            }
        });
    }
}
