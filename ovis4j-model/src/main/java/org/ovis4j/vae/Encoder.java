package org.ovis4j.vae;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.ComputeContext;

/**
 * The VAE encoder (spec 5a), diffusers names under {@code encoder.}: image [H, W, in] → moments
 * [H/8, W/8, 2·latent] (mean channels first, then log-variance). conv_in → per level
 * {@code layers_per_block} resnets and, except at the last level, a ×½ downsampler → mid block →
 * GN → SiLU → conv_out. (A {@code quant_conv}, if configured, is applied by {@link AutoencoderKL}.)
 */
public final class Encoder {
    private final VaeConfig cfg;
    private final VaeConv convIn, convOut;
    private final ResnetBlock[][] resnets;
    private final VaeConv[] downsamplers;
    private final MidBlock mid;
    private final GroupNorm normOut;

    public Encoder(VaeConfig cfg, Weights w, ComputeContext context) {
        this.cfg = cfg;
        int groups = cfg.normNumGroups(), levels = cfg.levels();
        convIn = new VaeConv(w, context, "encoder.conv_in", cfg.inChannels(), cfg.channels(0), 3);
        resnets = new ResnetBlock[levels][cfg.layersPerBlock()];
        downsamplers = new VaeConv[levels];
        int cin = cfg.channels(0);
        for (int b = 0; b < levels; b++) {
            int cout = cfg.channels(b);
            String p = "encoder.down_blocks." + b + ".";
            for (int j = 0; j < cfg.layersPerBlock(); j++)
                resnets[b][j] = new ResnetBlock(w, context, p + "resnets." + j + ".", j == 0 ? cin : cout, cout, groups);
            if (b < levels - 1) downsamplers[b] = new VaeConv(w, context, p + "downsamplers.0.conv", cout, cout, 3);
            cin = cout;
        }
        int top = cfg.channels(levels - 1);
        mid = new MidBlock(w, context, "encoder.mid_block.", top, groups, cfg.midBlockAddAttention());
        normOut = new GroupNorm(w, "encoder.conv_norm_out", top, groups);
        convOut = new VaeConv(w, context, "encoder.conv_out", top, 2 * cfg.latentChannels(), 3);
    }

    /** image [H, W, in_channels] channels-last → moments [h, w, 2·latent] channels-last. */
    public FeatureMap forward(FeatureMap image, Probe probe) {
        if (image.c() != cfg.inChannels())
            throw new OvisException("vae encoder: image has " + image.c() + " channels, expected " + cfg.inChannels());
        Workspace ws = new Workspace();
        FeatureMap x = convIn.forward(image, ws);
        probe.accept("encoder.conv_in", x);
        for (int b = 0; b < resnets.length; b++) {
            for (ResnetBlock r : resnets[b]) x = ws.replace(x, r.forward(x, ws));
            if (downsamplers[b] != null) x = ws.replace(x, downsamplers[b].downsample(x, ws));
            probe.accept("encoder.down_blocks." + b, x);
        }
        x = ws.replace(x, mid.forward(x, ws));
        probe.accept("encoder.mid_block", x);
        normOut.forward(x, x.data());
        probe.accept("encoder.conv_norm_out", x);
        Activations.silu(x.data(), x.size());
        x = convOut.forward(x, ws);
        probe.accept("encoder.conv_out", x);
        return x;
    }
}
