package org.ovis4j.vae;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.kernel.Conv2d;
import org.ovis4j.core.tensor.Tensor;

/** A square convolution with bias, weight [cout, cin, k, k], used with "same" padding or as the ×½ downsampler. */
final class VaeConv {
    private final Conv2d conv;
    private final int k;

    VaeConv(Weights w, String name, int cin, int cout, int k) {
        Tensor weight = w.get(name + ".weight").expectShape(cout, cin, k, k);
        this.conv = new Conv2d(weight, w.get(name + ".bias").expectShape(cout));
        this.k = k;
    }

    int out() { return conv.out(); }

    /** Stride 1, zero padding k/2 on every side: the output has the input's size. */
    FeatureMap forward(FeatureMap x) {
        return forward(x.data(), x.h(), x.w());
    }

    /** As {@link #forward(FeatureMap)} for an input [h, w, cin] held at the start of {@code x} (e.g. a scratch buffer). */
    FeatureMap forward(float[] x, int h, int w) {
        int p = k / 2;
        int[] hw = new int[2];
        float[] y = conv.forward(x, h, w, 1, p, p, p, p, hw);
        return new FeatureMap(y, hw[0], hw[1], conv.out());
    }

    /** The FLUX/diffusers Downsample2D: zero pad right and bottom by 1, then stride 2 without other padding. */
    FeatureMap downsample(FeatureMap x) {
        int[] hw = new int[2];
        float[] y = conv.forward(x.data(), x.h(), x.w(), 2, 0, 0, 1, 1, hw);
        return new FeatureMap(y, hw[0], hw[1], conv.out());
    }
}
