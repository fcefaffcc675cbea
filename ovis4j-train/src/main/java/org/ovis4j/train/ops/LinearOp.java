package org.ovis4j.train.ops;

import org.ovis4j.core.kernel.Bf16Gemm;
import org.ovis4j.core.kernel.FloatPanels;
import org.ovis4j.core.kernel.Gemm;

/**
 * A fully connected layer y = x·Wᵀ + b over float32 master weights W [out, in] (PyTorch layout), and
 * its backward: dX = dY·W, dW = dYᵀ·X, db = Σ_rows dY. All three products go through the project's
 * one GEMM ({@link Gemm}), the weights read where they are (no prepared copy: they change every step).
 * The weight enters the two products that read it as a panel source of Wᵀ and of W: over float32
 * arrays ({@link FloatPanels}) or over a frozen checkpoint tensor widened in place
 * ({@link org.ovis4j.core.kernel.TensorPanels}); the arithmetic is the same for both.
 *
 * <p>In bf16 compute ({@link org.ovis4j.train.optim.ComputePrecision#BF16}) the same three products go
 * through a {@link Bf16Gemm} instead, over the weight's bf16 copy (made once per optimizer step): X, dY
 * and W rounded to bf16, float32 sums and results, as torch's CPU autocast. dW = dYᵀ·X is then one
 * product with dY read transposed (no transposed copy); db stays the float32 column sums of dY.
 *
 * <p>Matrices are rows of a float array from an offset with a row stride (ld), so that column blocks
 * of a wider buffer (the attention and MLP halves of a single block's projection input) need no copy.
 */
public final class LinearOp {
    private LinearOp() {}

    /** y[yOff + r·ldy + o] = b[o] + Σ_i x[xOff + r·ldx + i]·w[o·in + i] for r in [0, rows); b may be null. */
    public static void forward(float[] x, int xOff, int ldx, int rows, float[] w, float[] b, int in, int out,
                               float[] y, int yOff, int ldy) {
        forward(x, xOff, ldx, rows, FloatPanels.transposed(w, 0, in), b, in, out, y, yOff, ldy);
    }

    /** As above with the weight given as the panel source of Wᵀ (K = in, N = out). */
    public static void forward(float[] x, int xOff, int ldx, int rows, Gemm.PanelSource wT, float[] b, int in, int out,
                               float[] y, int yOff, int ldy) {
        Gemm.gemm(x, xOff, ldx, rows, in, FloatPanels.forRows(rows, wT, in, out), out, b, y, ldy, yOff, false);
    }

    /** bf16 compute: y = bf16(x)·bf16(W)ᵀ + b in float32, with {@code w} the bf16 copy of W [out, in]. */
    public static void forward(float[] x, int xOff, int ldx, int rows, Bf16Gemm gemm, Bf16Gemm.Matrix w, float[] b, int in, int out,
                               float[] y, int yOff, int ldy) {
        gemm.multiply(rows, out, in, x, xOff, ldx, false, w, true, b, y, yOff, ldy, false);
    }

    /** Contiguous rows: x [rows, in] → y [rows, out]. */
    public static void forward(float[] x, int rows, float[] w, float[] b, int in, int out, float[] y) {
        forward(x, 0, in, rows, w, b, in, out, y, 0, out);
    }

    /**
     * The gradients of {@link #forward} given dY (rows from dyOff, stride lddy):
     * dX (written, or added to when {@code accumulateDx}) = dY·W, unless dx is null;
     * dW += dYᵀ·X and db += Σ_r dY, each unless null (a frozen weight or bias has no gradient).
     */
    public static void backward(float[] x, int xOff, int ldx, int rows, float[] w, int in, int out,
                                float[] dy, int dyOff, int lddy,
                                float[] dx, int dxOff, int lddx, boolean accumulateDx, float[] dw, float[] db) {
        backward(x, xOff, ldx, rows, FloatPanels.rowMajor(w, 0, in), in, out, dy, dyOff, lddy, dx, dxOff, lddx, accumulateDx, dw, db);
    }

    /** As above with the weight given as the panel source of W itself (K = out, N = in), which dX = dY·W reads. */
    public static void backward(float[] x, int xOff, int ldx, int rows, Gemm.PanelSource w, int in, int out,
                                float[] dy, int dyOff, int lddy,
                                float[] dx, int dxOff, int lddx, boolean accumulateDx, float[] dw, float[] db) {
        if (rows == 0) return;
        if (dx != null)
            Gemm.gemm(dy, dyOff, lddy, rows, out, FloatPanels.forRows(rows, w, out, in), in, null, dx, lddx, dxOff, accumulateDx);
        if (dw != null) {
            // dW [out, in] = dYᵀ [out, rows] · X [rows, in]: the GEMM reads A row-major, so dY is transposed once
            // (rows·out copies against rows·out·in multiply-adds).
            float[] dyT = transpose(dy, dyOff, lddy, rows, out);
            Gemm.gemm(dyT, 0, rows, out, rows, FloatPanels.forRows(out, FloatPanels.rowMajor(x, xOff, ldx), rows, in), in, null,
                    dw, in, 0, true);
        }
        if (db != null) biasGradient(rows, out, dy, dyOff, lddy, db);
    }

    /**
     * bf16 compute: the gradients of the bf16 {@link #forward(float[], int, int, int, Bf16Gemm, Bf16Gemm.Matrix, float[], int, int, float[], int, int)},
     * as {@link #backward(float[], int, int, int, Gemm.PanelSource, int, int, float[], int, int, float[], int, int, boolean, float[], float[])}:
     * dX = bf16(dY)·bf16(W), dW += bf16(dY)ᵀ·bf16(X), db += Σ_r dY (float32).
     */
    public static void backward(float[] x, int xOff, int ldx, int rows, Bf16Gemm gemm, Bf16Gemm.Matrix w, int in, int out,
                                float[] dy, int dyOff, int lddy,
                                float[] dx, int dxOff, int lddx, boolean accumulateDx, float[] dw, float[] db) {
        if (rows == 0) return;
        if (dx != null) gemm.multiply(rows, in, out, dy, dyOff, lddy, false, w, false, null, dx, dxOff, lddx, accumulateDx);
        if (dw != null) gemm.multiply(out, in, rows, dy, dyOff, lddy, true, x, xOff, ldx, false, null, dw, 0, in, true);
        if (db != null) biasGradient(rows, out, dy, dyOff, lddy, db);
    }

    /** db += Σ_r dY[r] (summed in double, in a fixed order: the same bits for any thread count). */
    private static void biasGradient(int rows, int out, float[] dy, int dyOff, int lddy, float[] db) {
        double[] sum = ColumnSums.of(rows, out, (r, acc) -> {
            int o = dyOff + r * lddy;
            for (int j = 0; j < out; j++) acc[j] += dy[o + j];
        });
        ColumnSums.addInto(sum, 0, db, 0, out);
    }

    /** Contiguous rows: x [rows, in], dy [rows, out], dx [rows, in]. */
    public static void backward(float[] x, int rows, float[] w, int in, int out, float[] dy,
                                float[] dx, boolean accumulateDx, float[] dw, float[] db) {
        backward(x, 0, in, rows, w, in, out, dy, 0, out, dx, 0, in, accumulateDx, dw, db);
    }

    /** a [rows, cols] (from off, stride ld) → [cols, rows]. */
    static float[] transpose(float[] a, int off, int ld, int rows, int cols) {
        float[] t = new float[rows * cols];
        // blocks of 16 rows: their 16 values of a column go to one output cache line
        final int block = 16;
        RowTasks.forEach((rows + block - 1) / block, block * cols, rb -> {
            int r0 = rb * block, r1 = Math.min(rows, r0 + block);
            for (int c = 0; c < cols; c++)
                for (int r = r0; r < r1; r++) t[c * rows + r] = a[off + r * ld + c];
        });
        return t;
    }
}
