package org.ovis4j.checkpoint;

import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.vae.VaeConfig;

/**
 * The Black Forest Labs {@code ae.safetensors} names (FLUX.1, official Ovis-Image) seen as diffusers
 * AutoencoderKL names (spec 1.4): resnets are {@code block.j}, shortcuts {@code nin_shortcut}, the
 * mid block is {@code mid.block_1 / attn_1 / block_2}, output norms {@code norm_out}, and the decoder's
 * {@code up} list is indexed by resolution level, so diffusers' {@code up_blocks.k} is
 * {@code up.(levels − 1 − k)}. The attention projections there are 1×1 convs [C, C, 1, 1]; the model
 * reads them as [C, C] either way. Names equal in both layouts (conv_in, conv_out) need no entry.
 */
public final class BflVaeNames {
    private BflVaeNames() {}

    /** True when the store uses the BFL names. */
    public static boolean matches(TensorStore store) {
        return store.has("decoder.norm_out.weight") || store.has("encoder.norm_out.weight");
    }

    public static NameMap map(VaeConfig cfg) {
        NameMap m = new NameMap();
        int levels = cfg.levels();
        for (int b = 0; b < levels; b++) {
            for (int j = 0; j < cfg.layersPerBlock(); j++)
                resnet(m, "encoder.down_blocks." + b + ".resnets." + j + ".", "encoder.down." + b + ".block." + j + ".");
            if (b < levels - 1) both(m, "encoder.down_blocks." + b + ".downsamplers.0.conv", "encoder.down." + b + ".downsample.conv");
        }
        for (int k = 0; k < levels; k++) {
            int level = levels - 1 - k;
            for (int j = 0; j <= cfg.layersPerBlock(); j++)
                resnet(m, "decoder.up_blocks." + k + ".resnets." + j + ".", "decoder.up." + level + ".block." + j + ".");
            if (k < levels - 1) both(m, "decoder.up_blocks." + k + ".upsamplers.0.conv", "decoder.up." + level + ".upsample.conv");
        }
        for (String part : new String[] {"encoder", "decoder"}) {
            String d = part + ".mid_block.", o = part + ".mid.";
            resnet(m, d + "resnets.0.", o + "block_1.");
            resnet(m, d + "resnets.1.", o + "block_2.");
            both(m, d + "attentions.0.group_norm", o + "attn_1.norm");
            both(m, d + "attentions.0.to_q", o + "attn_1.q");
            both(m, d + "attentions.0.to_k", o + "attn_1.k");
            both(m, d + "attentions.0.to_v", o + "attn_1.v");
            both(m, d + "attentions.0.to_out.0", o + "attn_1.proj_out");
            both(m, part + ".conv_norm_out", part + ".norm_out");
        }
        return m;
    }

    /** Every resnet gets a shortcut entry; the model asks for it only where the channel count changes. */
    private static void resnet(NameMap m, String diffusers, String bfl) {
        for (String n : new String[] {"norm1", "conv1", "norm2", "conv2"}) both(m, diffusers + n, bfl + n);
        both(m, diffusers + "conv_shortcut", bfl + "nin_shortcut");
    }

    private static void both(NameMap m, String diffusers, String bfl) {
        m.rename(diffusers + ".weight", bfl + ".weight");
        m.rename(diffusers + ".bias", bfl + ".bias");
    }
}
