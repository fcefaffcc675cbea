package org.ovis4j.vae;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.Norms;

/** GroupNorm with affine weight and bias (eps 1e-6), optionally followed by SiLU, over a channels-last map. */
final class GroupNorm {
    private final float[] weight, bias;
    private final int channels, groups;

    GroupNorm(Weights w, String name, int channels, int groups) {
        this.weight = w.get(name + ".weight").expectShape(channels).toFloats();
        this.bias = w.get(name + ".bias").expectShape(channels).toFloats();
        this.channels = channels;
        this.groups = groups;
    }

    /** out[0, x.size) = GN(x); out may be x.data() (in place). */
    void forward(FeatureMap x, float[] out) {
        if (x.c() != channels) throw new IllegalArgumentException("group norm: " + x.c() + " channels, expected " + channels);
        Norms.groupNorm(x.data(), x.pixels(), channels, groups, weight, bias, VaeConfig.EPS, out);
    }

    /** out[0, x.size) = SiLU(GN(x)). */
    void forwardSilu(FeatureMap x, float[] out) {
        forward(x, out);
        Activations.silu(out, x.size());
    }
}
