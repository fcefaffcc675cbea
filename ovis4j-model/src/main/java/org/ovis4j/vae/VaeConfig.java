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
     * Reads diffusers' {@code vae/config.json}. Architecture keys are required; optional ones take
     * diffusers' defaults ({@code shift_factor} null → 0, {@code mid_block_add_attention} true,
     * {@code use_quant_conv}/{@code use_post_quant_conv} true, as in {@code AutoencoderKL.__init__}).
     */
    public static VaeConfig fromDiffusers(Path file) {
        Config c = Config.read(file);
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
     * The VAE configuration of a checkpoint folder: diffusers' {@code vae/config.json}, or in the
     * original layout the optional {@code ae_params.json} (absent: the FLUX.1 values).
     */
    public static VaeConfig of(CheckpointFolder folder) {
        Path file = folder.vaeConfig();
        if (folder.layout() == Layout.DIFFUSERS) return fromDiffusers(file);
        return file != null ? fromAeParams(file) : flux1();
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
