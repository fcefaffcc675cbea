package org.ovis4j.train.vae;

import org.ovis4j.train.ops.Conv2dOp;
import org.ovis4j.train.ops.ConvBuffers;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

/** A convolution's weight and bias (diffusers names {@code name.weight / name.bias}) with its geometry. */
final class ConvLayer {
    final Conv2dOp op;
    final Parameter weight, bias;

    /**
     * Declares the two parameters. {@code linear}: the weight is a diffusers Linear [Cout, Cin] (the
     * attention projections), the same numbers as a 1×1 kernel [Cout, Cin, 1, 1].
     */
    ConvLayer(TrainableVae.Source source, Parameters ps, String name, Conv2dOp op, boolean linear) {
        this.op = op;
        int k = op.kernel();
        long[] shape = linear ? new long[] {op.out(), op.in()} : new long[] {op.out(), op.in(), k, k};
        this.weight = ps.add(Parameter.trainable(name + ".weight", shape, source.values(name + ".weight", shape)));
        this.bias = ps.add(Parameter.trainable(name + ".bias", new long[] {op.out()}, source.values(name + ".bias", new long[] {op.out()})));
    }

    MapShape outShape(MapShape in) {
        return new MapShape(in.batch(), op.outHeight(in.h()), op.outWidth(in.w()), op.out());
    }

    void forward(float[] x, MapShape in, float[] y, ConvBuffers buf) {
        op.forward(weight.value(), bias.value(), x, in.batch(), in.h(), in.w(), y, buf);
    }

    /** Adds to the parameters' gradients and to dx (null: not wanted). */
    void backward(float[] x, MapShape in, float[] dy, float[] dx, ConvBuffers buf) {
        op.backward(weight.value(), x, in.batch(), in.h(), in.w(), dy, dx, weight.grad(), bias.grad(), buf);
    }
}
