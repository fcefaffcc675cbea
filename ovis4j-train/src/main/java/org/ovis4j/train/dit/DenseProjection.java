package org.ovis4j.train.dit;

import java.util.List;
import org.ovis4j.core.kernel.FloatPanels;
import org.ovis4j.core.kernel.Gemm;
import org.ovis4j.core.kernel.TensorPanels;
import org.ovis4j.train.ops.LinearOp;
import org.ovis4j.train.param.Parameter;

/**
 * y = x·Wᵀ + b over W [out, in] and b [out]; frozen parameters get no gradient. W is either float32
 * values (a master the optimizer updates, or a frozen copy) or, frozen, the checkpoint's stored tensor
 * used in place ({@link Parameter#stored}: memory-mapped bf16/f16/f32/Q8_0, widened block by block inside
 * the GEMM, never copied to float32). Which one is decided by the parameter when the model is built; both
 * multiply through the same GEMM, so a stored float32 weight gives the float32 path's bits exactly.
 */
public final class DenseProjection implements Projection {
    private final String module;
    private final Parameter weight, bias;
    private final int in, out;
    /** Panel sources of Wᵀ (the forward's B) and of W (dX = dY·W's B), over the weight's storage. */
    private final Gemm.PanelSource wT, w;

    public DenseProjection(String module, Parameter weight, Parameter bias) {
        long[] shape = weight.shape();
        if (shape.length != 2) throw new IllegalArgumentException(weight.name() + ": expected a 2-D weight");
        this.module = module;
        this.weight = weight;
        this.bias = bias;
        this.out = Math.toIntExact(shape[0]);
        this.in = Math.toIntExact(shape[1]);
        if (bias != null && bias.size() != out) throw new IllegalArgumentException(bias.name() + ": expected " + out + " values");
        if (weight.stored() != null) {
            wT = TensorPanels.transposed(weight.stored());
            w = TensorPanels.rowMajor(weight.stored());
        } else {
            // the sources read the master array itself, so they see every optimizer update
            wT = FloatPanels.transposed(weight.value(), 0, in);
            w = FloatPanels.rowMajor(weight.value(), 0, in);
        }
    }

    @Override public String module() { return module; }
    @Override public int in() { return in; }
    @Override public int out() { return out; }
    public Parameter weight() { return weight; }
    public Parameter bias() { return bias; }

    @Override
    public List<Parameter> parameters() {
        return bias == null ? List.of(weight) : List.of(weight, bias);
    }

    @Override
    public void forward(float[] x, int xOff, int ldx, int rows, float[] y, int yOff, int ldy) {
        LinearOp.forward(x, xOff, ldx, rows, wT, bias == null ? null : bias.value(), in, out, y, yOff, ldy);
    }

    @Override
    public void backward(float[] x, int xOff, int ldx, int rows, float[] dy, int dyOff, int lddy,
                         float[] dx, int dxOff, int lddx, boolean accumulate) {
        LinearOp.backward(x, xOff, ldx, rows, w, in, out, dy, dyOff, lddy, dx, dxOff, lddx, accumulate,
                weight.grad(), bias == null ? null : bias.grad());
    }
}
