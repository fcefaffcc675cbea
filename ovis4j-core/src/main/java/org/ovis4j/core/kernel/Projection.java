package org.ovis4j.core.kernel;

/**
 * A linear module y = x·Wᵀ + b, W [out, in] in PyTorch's layout, however its weights are stored:
 * prepared by a backend ({@link DenseProjection}: packed, used in place, int8 W8A8, Q8_0) or an
 * adapter over a frozen base ({@link LoraProjection}). Which one a layer is gets decided when the
 * model is built ({@link ComputeContext}'s factories); nothing switches afterwards.
 * Implementations are immutable and may be called from several threads at once.
 *
 * <p>Rows of x and y are addressed with an offset and a row stride, so that callers can read and
 * write column blocks of wider matrices without copying.
 */
public interface Projection {
    int in();

    int out();

    /** y[yOff + r·ldy + n] = b[n] + Σ_k x[xOff + r·ldx + k]·W[n, k], for r in [0, rows), n in [0, out). */
    void forward(float[] x, int xOff, int ldx, int rows, float[] y, int yOff, int ldy);

    /** y[yOff + r·ldy + n] += b[n] + Σ_k x[xOff + r·ldx + k]·W[n, k] (a residual add). */
    void forwardAdd(float[] x, int xOff, int ldx, int rows, float[] y, int yOff, int ldy);

    /** Contiguous rows: y [rows, out] = x [rows, in]·Wᵀ + b. */
    default void forward(float[] x, int rows, float[] y) {
        forward(x, 0, in(), rows, y, 0, out());
    }

    /** Contiguous rows starting at element xOff of x and yOff of y. */
    default void forward(float[] x, int xOff, int rows, float[] y, int yOff) {
        forward(x, xOff, in(), rows, y, yOff, out());
    }

    /** Contiguous rows: y [rows, out] += x·Wᵀ + b. */
    default void forwardAdd(float[] x, int rows, float[] y) {
        forwardAdd(x, 0, in(), rows, y, 0, out());
    }

    /** A new array x·Wᵀ + b [rows, out]. */
    default float[] apply(float[] x, int rows) {
        float[] y = new float[Math.multiplyExact(rows, out())];
        forward(x, rows, y);
        return y;
    }
}
