package org.ovis4j.train.dit;

import java.util.List;
import org.ovis4j.train.ops.LinearOp;
import org.ovis4j.train.param.Parameter;

/** y = x·Wᵀ + b over the float32 masters W [out, in] and b [out]; frozen parameters get no gradient. */
public final class DenseProjection implements Projection {
    private final String module;
    private final Parameter weight, bias;
    private final int in, out;

    public DenseProjection(String module, Parameter weight, Parameter bias) {
        long[] shape = weight.shape();
        if (shape.length != 2) throw new IllegalArgumentException(weight.name() + ": expected a 2-D weight");
        this.module = module;
        this.weight = weight;
        this.bias = bias;
        this.out = Math.toIntExact(shape[0]);
        this.in = Math.toIntExact(shape[1]);
        if (bias != null && bias.size() != out) throw new IllegalArgumentException(bias.name() + ": expected " + out + " values");
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
        LinearOp.forward(x, xOff, ldx, rows, weight.value(), bias == null ? null : bias.value(), in, out, y, yOff, ldy);
    }

    @Override
    public void backward(float[] x, int xOff, int ldx, int rows, float[] dy, int dyOff, int lddy,
                         float[] dx, int dxOff, int lddx, boolean accumulate) {
        LinearOp.backward(x, xOff, ldx, rows, weight.value(), in, out, dy, dyOff, lddy, dx, dxOff, lddx, accumulate,
                weight.grad(), bias == null ? null : bias.grad());
    }
}
