package org.ovis4j.train.dit;

import java.util.List;
import org.ovis4j.core.kernel.Bf16Gemm;
import org.ovis4j.core.kernel.FloatPanels;
import org.ovis4j.core.kernel.Gemm;
import org.ovis4j.core.kernel.TensorPanels;
import org.ovis4j.train.ops.LinearOp;
import org.ovis4j.train.optim.ComputeWeights;
import org.ovis4j.train.param.Parameter;

/**
 * y = x·Wᵀ + b over W [out, in] and b [out]; frozen parameters get no gradient. W is either float32
 * values (a master the optimizer updates, or a frozen copy) or, frozen, the checkpoint's stored tensor
 * used in place ({@link Parameter#stored}: memory-mapped bf16/f16/f32/Q8_0, widened block by block inside
 * the GEMM, never copied to float32). Which one is decided by the parameter when the model is built; both
 * multiply through the same GEMM, so a stored float32 weight gives the float32 path's bits exactly.
 *
 * <p>Built with bf16 {@link ComputeWeights}, a float-valued weight is also given a bf16 copy there and the
 * three products go through the bf16 matmul over it ({@link LinearOp}'s bf16 forms); the gradients still go
 * into the float32 {@link Parameter#grad()}.
 */
public final class DenseProjection implements Projection {
    private final String module;
    private final Parameter weight, bias;
    private final int in, out;
    /** Panel sources of Wᵀ (the forward's B) and of W (dX = dY·W's B), over the weight's storage. */
    private final Gemm.PanelSource wT, w;
    /** The bf16 matmul and this weight's bf16 copy, or null (float32 products). */
    private final Bf16Gemm gemm;
    private final Bf16Gemm.Matrix w16;

    /** A layer computing in float32. */
    public DenseProjection(String module, Parameter weight, Parameter bias) {
        this(module, weight, bias, ComputeWeights.FP32);
    }

    /** A layer computing in {@code compute}'s precision (bf16: its weight registered there). */
    public DenseProjection(String module, Parameter weight, Parameter bias, ComputeWeights compute) {
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
        w16 = compute.register(weight);
        gemm = w16 == null ? null : compute.gemm();
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
        float[] b = bias == null ? null : bias.value();
        if (w16 != null) LinearOp.forward(x, xOff, ldx, rows, gemm, w16, b, in, out, y, yOff, ldy);
        else LinearOp.forward(x, xOff, ldx, rows, wT, b, in, out, y, yOff, ldy);
    }

    @Override
    public void backward(float[] x, int xOff, int ldx, int rows, float[] dy, int dyOff, int lddy,
                         float[] dx, int dxOff, int lddx, boolean accumulate) {
        float[] db = bias == null ? null : bias.grad();
        if (w16 != null)
            LinearOp.backward(x, xOff, ldx, rows, gemm, w16, in, out, dy, dyOff, lddy, dx, dxOff, lddx, accumulate, weight.grad(), db);
        else LinearOp.backward(x, xOff, ldx, rows, w, in, out, dy, dyOff, lddy, dx, dxOff, lddx, accumulate, weight.grad(), db);
    }
}
