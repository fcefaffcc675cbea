package org.ovis4j.checkpoint;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.ParameterSpec;
import org.ovis4j.vae.VaeConfig;

/**
 * The Black Forest Labs {@code ae.safetensors} names (FLUX.1, official Ovis-Image) seen as diffusers
 * AutoencoderKL names (spec 1.4): resnets are {@code block.j}, shortcuts {@code nin_shortcut}, the
 * mid block is {@code mid.block_1 / attn_1 / block_2}, output norms {@code norm_out}, and the decoder's
 * {@code up} list is indexed by resolution level, so diffusers' {@code up_blocks.k} is
 * {@code up.(levels − 1 − k)}. The attention projections there are 1×1 convs [C, C, 1, 1]; the model
 * reads them as [C, C] either way. The map rewrites each name of the VAE's parameter walk by these
 * rules; names equal in both layouts (conv_in, conv_out) need no entry.
 */
public final class BflVaeNames {
    private BflVaeNames() {}

    /** True when the store uses the BFL names. */
    public static boolean matches(TensorStore store) {
        return store.has("decoder.norm_out.weight") || store.has("encoder.norm_out.weight");
    }

    /** An entry for every parameter of the config's walk whose BFL name differs. */
    public static NameMap map(VaeConfig cfg) {
        NameMap m = new NameMap();
        for (ParameterSpec p : cfg.parameters()) {
            String bfl = bflName(p.name(), cfg.levels());
            if (!bfl.equals(p.name())) m.rename(p.name(), bfl);
        }
        return m;
    }

    private static final Pattern UP_BLOCK = Pattern.compile("^decoder\\.up_blocks\\.(\\d+)\\.");

    /** The BFL spelling of a diffusers VAE parameter name. */
    static String bflName(String name, int levels) {
        Matcher up = UP_BLOCK.matcher(name);
        if (up.find()) name = "decoder.up." + (levels - 1 - Integer.parseInt(up.group(1))) + "." + name.substring(up.end());
        return name.replaceFirst("^encoder\\.down_blocks\\.", "encoder.down.")
                .replace(".mid_block.resnets.0.", ".mid.block_1.")
                .replace(".mid_block.resnets.1.", ".mid.block_2.")
                .replace(".mid_block.attentions.0.group_norm.", ".mid.attn_1.norm.")
                .replace(".mid_block.attentions.0.to_out.0.", ".mid.attn_1.proj_out.")
                .replaceFirst("\\.mid_block\\.attentions\\.0\\.to_([qkv])\\.", ".mid.attn_1.$1.")
                .replace(".resnets.", ".block.")
                .replace(".conv_shortcut.", ".nin_shortcut.")
                .replace(".downsamplers.0.conv.", ".downsample.conv.")
                .replace(".upsamplers.0.conv.", ".upsample.conv.")
                .replace(".conv_norm_out.", ".norm_out.");
    }
}
