package org.ovis4j.train.ops;

/**
 * The scratch arrays of {@link Conv2dOp}: the patch matrix of a band of output rows, its gradient,
 * a transposed band of the output gradient, and the reordered weight and its gradient. Owned by whoever runs the convolutions (one training
 * step's activations), grown on demand and reused by every convolution of the step; not for
 * concurrent use.
 */
public final class ConvBuffers {
    private float[] cols = new float[0], dcols = new float[0], dyT = new float[0], weight = new float[0], weightGrad = new float[0];

    float[] cols(int n) {
        if (cols.length < n) cols = new float[n];
        return cols;
    }

    float[] dcols(int n) {
        if (dcols.length < n) dcols = new float[n];
        return dcols;
    }

    float[] dyT(int n) {
        if (dyT.length < n) dyT = new float[n];
        return dyT;
    }

    float[] weight(int n) {
        if (weight.length < n) weight = new float[n];
        return weight;
    }

    float[] weightGrad(int n) {
        if (weightGrad.length < n) weightGrad = new float[n];
        return weightGrad;
    }
}
