package org.ovis4j.vae;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.kernel.ComputeContext;

/** UNetMidBlock2D as the VAE uses it: resnet, self-attention (unless disabled), resnet, all at C channels. */
final class MidBlock {
    private final ResnetBlock first, second;
    private final SelfAttention attention;

    MidBlock(Weights w, ComputeContext context, String prefix, int channels, int groups, boolean attention) {
        first = new ResnetBlock(w, context, prefix + "resnets.0.", channels, channels, groups);
        this.attention = attention ? new SelfAttention(w, context, prefix + "attentions.0.", channels, groups) : null;
        second = new ResnetBlock(w, context, prefix + "resnets.1.", channels, channels, groups);
    }

    /** A new map from the workspace; x is left unchanged. */
    FeatureMap forward(FeatureMap x, Workspace ws) {
        FeatureMap h = first.forward(x, ws);
        if (attention != null) {
            FeatureMap a = attention.forward(h, ws);
            ws.give(h.data());
            h = a;
        }
        FeatureMap out = second.forward(h, ws);
        ws.give(h.data());
        return out;
    }
}
