package org.ovis4j.vae;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.kernel.Projection;
import org.ovis4j.core.tensor.Tensor;

/**
 * ResnetBlock2D without time embedding (spec 5a): h = conv1(SiLU(GN1(x))); h = conv2(SiLU(GN2(h)));
 * out = shortcut(x) + h, where the shortcut is a 1×1 conv ({@code conv_shortcut}) when the channel
 * count changes and the identity otherwise. Output scale 1, dropout 0.
 */
final class ResnetBlock {
    private final GroupNorm norm1, norm2;
    private final VaeConv conv1, conv2;
    private final Projection shortcut;
    private final int cin, cout;

    ResnetBlock(Weights w, ComputeContext context, String prefix, int cin, int cout, int groups) {
        this.cin = cin;
        this.cout = cout;
        norm1 = new GroupNorm(w, prefix + "norm1", cin, groups);
        conv1 = new VaeConv(w, context, prefix + "conv1", cin, cout, 3);
        norm2 = new GroupNorm(w, prefix + "norm2", cout, groups);
        conv2 = new VaeConv(w, context, prefix + "conv2", cout, cout, 3);
        if (cin != cout) {
            Tensor sw = w.get(prefix + "conv_shortcut.weight").expectShape(cout, cin, 1, 1);
            shortcut = context.projection(sw.reshape(cout, cin), w.get(prefix + "conv_shortcut.bias").expectShape(cout));
        } else {
            shortcut = null;
        }
    }

    /** A new map [h, w, cout] from the workspace; x is left unchanged. */
    FeatureMap forward(FeatureMap x, Workspace ws) {
        if (x.c() != cin) throw new IllegalArgumentException("resnet: " + x.c() + " channels, expected " + cin);
        float[] t = ws.take(x.size());
        norm1.forwardSilu(x, t);
        FeatureMap h = conv1.forward(t, x.h(), x.w(), ws);
        ws.give(t);
        norm2.forwardSilu(h, h.data());
        FeatureMap out = conv2.forward(h, ws);
        ws.give(h.data());
        if (shortcut == null) out.addInPlace(x.data());
        else shortcut.forwardAdd(x.data(), x.pixels(), out.data());
        return out;
    }

    int out() { return cout; }
}
