package org.ovis4j.vae;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.ComputeContext;

/**
 * The VAE decoder (spec 5a), diffusers names under {@code decoder.}: latents [h, w, latent] → image
 * [8h, 8w, out]. conv_in → mid block → up blocks from the coarsest level down, each
 * {@code layers_per_block + 1} resnets and, except the last, nearest ×2 then a 3×3 conv → GN → SiLU →
 * conv_out. Up block k works at level {@code levels − 1 − k} (BFL calls it {@code up.(levels − 1 − k)}).
 * (A {@code post_quant_conv}, if configured, is applied by {@link AutoencoderKL}.)
 */
public final class Decoder {
    private final VaeConfig cfg;
    private final VaeConv convIn, convOut;
    private final MidBlock mid;
    private final ResnetBlock[][] resnets;
    private final VaeConv[] upsamplers;
    private final GroupNorm normOut;

    public Decoder(VaeConfig cfg, Weights w, ComputeContext context) {
        this.cfg = cfg;
        int groups = cfg.normNumGroups(), levels = cfg.levels();
        int top = cfg.channels(levels - 1);
        convIn = new VaeConv(w, context, "decoder.conv_in", cfg.latentChannels(), top, 3);
        mid = new MidBlock(w, context, "decoder.mid_block.", top, groups, cfg.midBlockAddAttention());
        resnets = new ResnetBlock[levels][cfg.layersPerBlock() + 1];
        upsamplers = new VaeConv[levels];
        int cin = top;
        for (int k = 0; k < levels; k++) {
            int cout = cfg.channels(levels - 1 - k);
            String p = "decoder.up_blocks." + k + ".";
            for (int j = 0; j <= cfg.layersPerBlock(); j++)
                resnets[k][j] = new ResnetBlock(w, context, p + "resnets." + j + ".", j == 0 ? cin : cout, cout, groups);
            if (k < levels - 1) upsamplers[k] = new VaeConv(w, context, p + "upsamplers.0.conv", cout, cout, 3);
            cin = cout;
        }
        normOut = new GroupNorm(w, "decoder.conv_norm_out", cfg.channels(0), groups);
        convOut = new VaeConv(w, context, "decoder.conv_out", cfg.channels(0), cfg.outChannels(), 3);
    }

    /** latents [h, w, latent_channels] channels-last (unscaled, i.e. after z/scale + shift) → image [8h, 8w, out]. */
    public FeatureMap forward(FeatureMap z, Probe probe) {
        return forward(z, probe, new Workspace());
    }

    /** As {@link #forward(FeatureMap, Probe)}, taking activations from (and returning them to) ws; the result is the caller's. */
    FeatureMap forward(FeatureMap z, Probe probe, Workspace ws) {
        if (z.c() != cfg.latentChannels())
            throw new OvisException("vae decoder: latents have " + z.c() + " channels, expected " + cfg.latentChannels());
        FeatureMap x = convIn.forward(z, ws);
        probe.accept("decoder.conv_in", x);
        x = ws.replace(x, mid.forward(x, ws));
        probe.accept("decoder.mid_block", x);
        for (int k = 0; k < resnets.length; k++) {
            for (ResnetBlock r : resnets[k]) x = ws.replace(x, r.forward(x, ws));
            if (upsamplers[k] != null) {
                x = ws.replace(x, x.upsampleNearest2x(ws));
                x = ws.replace(x, upsamplers[k].forward(x, ws));
            }
            probe.accept("decoder.up_blocks." + k, x);
        }
        normOut.forward(x, x.data());
        probe.accept("decoder.conv_norm_out", x);
        Activations.silu(x.data(), x.size());
        x = ws.replace(x, convOut.forward(x, ws));
        probe.accept("decoder.conv_out", x);
        return x;
    }
}
