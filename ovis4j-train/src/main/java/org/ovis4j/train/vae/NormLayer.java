package org.ovis4j.train.vae;

import org.ovis4j.train.ops.GroupNormOp;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;
import org.ovis4j.vae.VaeConfig;

/** A GroupNorm's weight and bias (eps 1e-6), with or without the SiLU that follows it. */
final class NormLayer {
    final GroupNormOp op;
    final Parameter weight, bias;

    NormLayer(TrainableVae.Source source, Parameters ps, String name, int channels, int groups, boolean silu) {
        this.op = new GroupNormOp(channels, groups, VaeConfig.EPS, silu);
        long[] shape = {channels};
        this.weight = ps.add(Parameter.trainable(name + ".weight", shape, source.values(name + ".weight", shape)));
        this.bias = ps.add(Parameter.trainable(name + ".bias", shape, source.values(name + ".bias", shape)));
    }

    /** Statistics (mean and 1/σ) a forward keeps: [batch·groups] each. */
    float[][] newStats(int batch) {
        return new float[][] {new float[op.statsSize(batch)], new float[op.statsSize(batch)]};
    }

    void forward(float[] x, MapShape s, float[] y, float[][] stats) {
        op.forward(x, s.batch(), s.pixels(), weight.value(), bias.value(), y, stats[0], stats[1]);
    }

    /** The forward's output again, from x and the statistics it kept. */
    void apply(float[] x, MapShape s, float[] y, float[][] stats) {
        op.apply(x, s.batch(), s.pixels(), weight.value(), bias.value(), stats[0], stats[1], y);
    }

    void backward(float[] x, MapShape s, float[][] stats, float[] dy, float[] dx) {
        op.backward(x, s.batch(), s.pixels(), weight.value(), bias.value(), stats[0], stats[1], dy, dx, weight.grad(), bias.grad());
    }
}
