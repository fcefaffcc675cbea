package org.ovis4j.vae;

import org.ovis4j.checkpoint.Weights;

/** UNetMidBlock2D as the VAE uses it: resnet, self-attention (unless disabled), resnet, all at C channels. */
final class MidBlock {
    private final ResnetBlock first, second;
    private final SelfAttention attention;

    MidBlock(Weights w, String prefix, int channels, int groups, boolean attention) {
        first = new ResnetBlock(w, prefix + "resnets.0.", channels, channels, groups);
        this.attention = attention ? new SelfAttention(w, prefix + "attentions.0.", channels, groups) : null;
        second = new ResnetBlock(w, prefix + "resnets.1.", channels, channels, groups);
    }

    FeatureMap forward(FeatureMap x, Scratch scratch) {
        FeatureMap h = first.forward(x, scratch);
        if (attention != null) h = attention.forward(h, scratch);
        return second.forward(h, scratch);
    }
}
