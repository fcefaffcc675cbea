package org.ovis4j.vae;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.kernel.Conv2d;
import org.ovis4j.core.tensor.Tensor;

/** A square convolution with bias, weight [cout, cin, k, k], used with "same" padding or as the ×½ downsampler. */
final class VaeConv {
    private final Conv2d conv;
    private final int k;

    VaeConv(Weights w, ComputeContext context, String name, int cin, int cout, int k) {
        Tensor weight = w.get(name + ".weight").expectShape(cout, cin, k, k);
        this.conv = new Conv2d(weight, w.get(name + ".bias").expectShape(cout), context);
        this.k = k;
    }

    int out() { return conv.out(); }

    /** Stride 1, zero padding k/2 on every side: a map of the input's size, from the workspace. */
    FeatureMap forward(FeatureMap x, Workspace ws) {
        return forward(x.data(), x.h(), x.w(), ws);
    }

    /** As {@link #forward(FeatureMap, Workspace)} for an input [h, w, cin] held in {@code x}. */
    FeatureMap forward(float[] x, int h, int w, Workspace ws) {
        int p = k / 2;
        FeatureMap y = ws.map(conv.outHeight(h, 1, p, p), conv.outWidth(w, 1, p, p), conv.out());
        conv.forward(x, h, w, 1, p, p, p, p, y.data());
        return y;
    }

    /** The FLUX/diffusers Downsample2D: zero pad right and bottom by 1, then stride 2 without other padding. */
    FeatureMap downsample(FeatureMap x, Workspace ws) {
        FeatureMap y = ws.map(conv.outHeight(x.h(), 2, 0, 1), conv.outWidth(x.w(), 2, 0, 1), conv.out());
        conv.forward(x.data(), x.h(), x.w(), 2, 0, 0, 1, 1, y.data());
        return y;
    }
}
