package org.ovis4j.vae;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.checkpoint.Layout;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;
import org.ovis4j.core.tensor.ParameterSpec;

/**
 * AutoencoderKL hyper-parameters, named as in diffusers' {@code vae/config.json} (spec 5a). Fixed by
 * the architecture, not configured: SiLU, GroupNorm eps 1e-6, one attention head over all channels in
 * the mid blocks, ×2 resampling between levels (so the latent is {@link #downscale()} times smaller
 * than the image).
 *
 * @param blockOutChannels channels per resolution level, finest first ([128, 256, 512, 512] for FLUX.1)
 * @param layersPerBlock   resnets per encoder level; the decoder has one more per level
 * @param scalingFactor    latents are {@code (z − shift) · scale} for the transformer
 * @param useQuantConv     a 1×1 conv after the encoder (not in FLUX.1-style VAEs)
 * @param usePostQuantConv a 1×1 conv before the decoder (not in FLUX.1-style VAEs)
 */
public record VaeConfig(int inChannels, int outChannels, int latentChannels, int[] blockOutChannels, int layersPerBlock,
                        int normNumGroups, double scalingFactor, double shiftFactor, boolean midBlockAddAttention,
                        boolean useQuantConv, boolean usePostQuantConv) {
    public static final float EPS = 1e-6f;
    /** The hard-coded GroupNorm group count of the official (BFL) autoencoder. */
    public static final int BFL_GROUPS = 32;

    public VaeConfig {
        blockOutChannels = blockOutChannels.clone();
        if (inChannels <= 0 || outChannels <= 0 || latentChannels <= 0 || layersPerBlock <= 0 || normNumGroups <= 0)
            throw new OvisException("vae config: channel counts, layers_per_block and norm_num_groups must be positive");
        if (blockOutChannels.length == 0) throw new OvisException("vae config: block_out_channels is empty");
        for (int c : blockOutChannels)
            if (c <= 0 || c % normNumGroups != 0)
                throw new OvisException("vae config: block_out_channels " + Arrays.toString(blockOutChannels)
                        + " must be positive multiples of norm_num_groups " + normNumGroups);
    }

    /** The FLUX.1 / Ovis-Image-7B VAE (spec 1.2, 5a). */
    public static VaeConfig flux1() {
        return new VaeConfig(3, 3, 16, new int[] {128, 256, 512, 512}, 2, 32, 0.3611, 0.1159, true, false, false);
    }

    @Override
    public int[] blockOutChannels() {
        return blockOutChannels.clone();
    }

    public int levels() { return blockOutChannels.length; }

    /** Channels at level {@code i} (0 = finest). */
    public int channels(int level) { return blockOutChannels[level]; }

    /** Image size / latent size: 2^(levels − 1). */
    public int downscale() { return 1 << (blockOutChannels.length - 1); }

    /**
     * Every parameter of diffusers' AutoencoderKL with these sizes, in its names and declaration
     * order (spec 5a): the encoder (conv_in, per level {@code layers_per_block} resnets and a
     * downsampler except at the last, the mid block, norm and conv_out), the decoder (conv_in, mid
     * block, per up block {@code layers_per_block + 1} resnets and an upsampler except at the last,
     * norm and conv_out), then quant_conv and post_quant_conv where configured. A resnet has a 1×1
     * {@code conv_shortcut} only where its channel count changes.
     */
    public List<ParameterSpec> parameters() {
        ParameterSpec.Builder b = ParameterSpec.builder();
        int levels = levels(), top = channels(levels - 1);
        b.conv("encoder.conv_in", channels(0), inChannels, 3);
        int prev = channels(0);
        for (int i = 0; i < levels; i++) {
            for (int j = 0; j < layersPerBlock; j++)
                resnet(b, "encoder.down_blocks." + i + ".resnets." + j + ".", j == 0 ? prev : channels(i), channels(i));
            prev = channels(i);
            if (i < levels - 1) b.conv("encoder.down_blocks." + i + ".downsamplers.0.conv", prev, prev, 3);
        }
        mid(b, "encoder.mid_block.", top);
        b.norm("encoder.conv_norm_out", top, true).conv("encoder.conv_out", 2L * latentChannels, top, 3);
        b.conv("decoder.conv_in", top, latentChannels, 3);
        mid(b, "decoder.mid_block.", top);
        prev = top;
        for (int k = 0; k < levels; k++) {
            int c = channels(levels - 1 - k);
            for (int j = 0; j <= layersPerBlock; j++) resnet(b, "decoder.up_blocks." + k + ".resnets." + j + ".", j == 0 ? prev : c, c);
            prev = c;
            if (k < levels - 1) b.conv("decoder.up_blocks." + k + ".upsamplers.0.conv", c, c, 3);
        }
        b.norm("decoder.conv_norm_out", prev, true).conv("decoder.conv_out", outChannels, prev, 3);
        if (useQuantConv) b.conv("quant_conv", 2L * latentChannels, 2L * latentChannels, 1);
        if (usePostQuantConv) b.conv("post_quant_conv", latentChannels, latentChannels, 1);
        return b.build();
    }

    private static void resnet(ParameterSpec.Builder b, String p, int in, int out) {
        b.norm(p + "norm1", in, true).conv(p + "conv1", out, in, 3).norm(p + "norm2", out, true).conv(p + "conv2", out, out, 3);
        if (in != out) b.conv(p + "conv_shortcut", out, in, 1);
    }

    private void mid(ParameterSpec.Builder b, String p, int c) {
        resnet(b, p + "resnets.0.", c, c);
        if (midBlockAddAttention) {
            b.norm(p + "attentions.0.group_norm", c, true);
            for (String n : new String[] {"to_q", "to_k", "to_v", "to_out.0"}) b.linear(p + "attentions.0." + n, c, c, true);
        }
        resnet(b, p + "resnets.1.", c, c);
    }

    /** Parameter count implied by the shapes. */
    public long parameterCount() {
        return ParameterSpec.count(parameters());
    }

    /** The VAE's config in a checkpoint of either layout (the original one may have no file: FLUX.1). */
    public static VaeConfig read(CheckpointFolder folder) {
        Path file = folder.vaeConfig();
        return folder.layout() == Layout.DIFFUSERS ? fromDiffusers(file) : fromAeParams(file);
    }

    /**
     * Reads diffusers' {@code vae/config.json}. Architecture keys are required; optional ones take
     * diffusers' defaults ({@code shift_factor} null → 0, {@code mid_block_add_attention} true,
     * {@code use_quant_conv}/{@code use_post_quant_conv} true, as in {@code AutoencoderKL.__init__}).
     */
    public static VaeConfig fromDiffusers(Path file) {
        return fromDiffusers(Config.read(file));
    }

    /** The values of a diffusers AutoencoderKL config object; errors name {@code c.where()}. */
    public static VaeConfig fromDiffusers(Config c) {
        String file = c.where();
        for (String key : new String[] {"down_block_types", "up_block_types"}) {
            if (!c.has(key)) continue;
            String expected = key.startsWith("down") ? "DownEncoderBlock2D" : "UpDecoderBlock2D";
            if (!(c.map().get(key) instanceof List<?> l) || l.stream().anyMatch(v -> !expected.equals(v)))
                throw new OvisException(file + ": key \"" + key + "\" must list only " + expected);
        }
        String act = c.getString("act_fn", "silu");
        if (!act.equals("silu")) throw new OvisException(file + ": act_fn \"" + act + "\" is not supported (expected silu)");
        int[] channels = c.getIntArray("block_out_channels");
        if (c.has("down_block_types") && ((List<?>) c.map().get("down_block_types")).size() != channels.length)
            throw new OvisException(file + ": down_block_types and block_out_channels differ in length");
        return new VaeConfig(c.getInt("in_channels"), c.getInt("out_channels"), c.getInt("latent_channels"), channels,
                c.getInt("layers_per_block"), c.getInt("norm_num_groups"), c.getDouble("scaling_factor"),
                c.getDouble("shift_factor", 0.0), c.getBoolean("mid_block_add_attention", true),
                c.getBoolean("use_quant_conv", true), c.getBoolean("use_post_quant_conv", true));
    }

    /**
     * The official {@code AutoEncoderParams} as JSON ({@code ae_params.json}: ch, ch_mult, num_res_blocks,
     * z_channels, in_channels, out_ch, scale_factor, shift_factor; optional norm_num_groups, default
     * 32 as hard-coded in the official code). A null or absent file means the FLUX.1 values.
     */
    public static VaeConfig fromAeParams(Path file) {
        if (file == null || !Files.isRegularFile(file)) return flux1();
        Config c = Config.read(file);
        int ch = c.getInt("ch");
        int[] mult = c.getIntArray("ch_mult");
        int[] channels = new int[mult.length];
        for (int i = 0; i < mult.length; i++) channels[i] = ch * mult[i];
        return new VaeConfig(c.getInt("in_channels"), c.getInt("out_ch"), c.getInt("z_channels"), channels,
                c.getInt("num_res_blocks"), c.getInt("norm_num_groups", BFL_GROUPS), c.getDouble("scale_factor"),
                c.getDouble("shift_factor", 0.0), true, c.getBoolean("use_quant_conv", false),
                c.getBoolean("use_post_quant_conv", false));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VaeConfig v && inChannels == v.inChannels && outChannels == v.outChannels
                && latentChannels == v.latentChannels && Arrays.equals(blockOutChannels, v.blockOutChannels)
                && layersPerBlock == v.layersPerBlock && normNumGroups == v.normNumGroups
                && scalingFactor == v.scalingFactor && shiftFactor == v.shiftFactor
                && midBlockAddAttention == v.midBlockAddAttention && useQuantConv == v.useQuantConv
                && usePostQuantConv == v.usePostQuantConv;
    }

    @Override
    public int hashCode() {
        return Objects.hash(inChannels, outChannels, latentChannels, Arrays.hashCode(blockOutChannels),
                layersPerBlock, normNumGroups, scalingFactor, shiftFactor, midBlockAddAttention, useQuantConv, usePostQuantConv);
    }

    @Override
    public String toString() {
        return "VaeConfig[in " + inChannels + ", out " + outChannels + ", latent " + latentChannels + ", channels "
                + Arrays.toString(blockOutChannels) + ", layers " + layersPerBlock + ", groups " + normNumGroups
                + ", scale " + scalingFactor + ", shift " + shiftFactor + "]";
    }
}
