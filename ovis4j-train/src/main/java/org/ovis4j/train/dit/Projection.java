package org.ovis4j.train.dit;

import java.util.List;
import org.ovis4j.train.param.Parameter;

/**
 * One linear module of the model under training (a diffusers module path such as
 * {@code transformer_blocks.0.attn.to_q}), chosen when the model is built: a dense layer over float32
 * masters ({@link DenseProjection}), or an adapter over a frozen one (LoRA). Holds no per-pass state:
 * its backward is given the same input rows its forward saw.
 */
public interface Projection {
    /** The diffusers module path. */
    String module();

    int in();

    int out();

    /** Its parameters, in declaration order (weight, bias, then an adapter's). */
    List<Parameter> parameters();

    /** y[yOff + r·ldy + o] = this(x[xOff + r·ldx ...])[o] for r in [0, rows). */
    void forward(float[] x, int xOff, int ldx, int rows, float[] y, int yOff, int ldy);

    /**
     * Adds the parameters' gradients (trainable ones only) and writes dX (or adds it, when
     * {@code accumulate}) unless dx is null, from the forward's input x and dY.
     */
    void backward(float[] x, int xOff, int ldx, int rows, float[] dy, int dyOff, int lddy,
                  float[] dx, int dxOff, int lddx, boolean accumulate);

    /**
     * This module with its adapter switched off: the layer an adapter was put over (peft's
     * {@code disable_adapter()}), a plain layer itself. Shares the parameters, copies nothing.
     */
    default Projection unadapted() {
        return this;
    }

    /** Contiguous rows: x [rows, in] → y [rows, out]. */
    default void forward(float[] x, int rows, float[] y) {
        forward(x, 0, in(), rows, y, 0, out());
    }

    /** Contiguous rows: dy [rows, out] → dx [rows, in]. */
    default void backward(float[] x, int rows, float[] dy, float[] dx, boolean accumulate) {
        backward(x, 0, in(), rows, dy, 0, out(), dx, 0, in(), accumulate);
    }
}
