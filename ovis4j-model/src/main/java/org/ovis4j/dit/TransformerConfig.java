package org.ovis4j.dit;

import java.nio.file.Files;
import java.nio.file.Path;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;

/**
 * OvisImageTransformer2DModel hyper-parameters, named as in diffusers' {@code transformer/config.json}.
 * RoPE theta (10000), the MLP ratio (4, SwiGLU) and the norm epsilons (1e-6) are fixed by the
 * architecture, not configured.
 */
public record TransformerConfig(int inChannels, int outChannels, int numLayers, int numSingleLayers,
                                int attentionHeadDim, int numAttentionHeads, int jointAttentionDim, int[] axesDimsRope) {
    public static final double ROPE_THETA = 10000.0;
    public static final int MLP_RATIO = 4;
    public static final float EPS = 1e-6f;
    public static final int TIME_EMBED_DIM = 256;

    /** The released Ovis-Image-7B values (spec 1.2). */
    public static TransformerConfig ovisImage7B() {
        return new TransformerConfig(64, 64, 6, 27, 128, 24, 2048, new int[] {16, 56, 56});
    }

    public int innerDim() { return attentionHeadDim * numAttentionHeads; }
    public int mlpHidden() { return innerDim() * MLP_RATIO; }

    public TransformerConfig {
        if (numAttentionHeads <= 0 || attentionHeadDim <= 0 || attentionHeadDim % 2 != 0)
            throw new OvisException("transformer config: bad attention shape " + numAttentionHeads + " x " + attentionHeadDim);
        int sum = 0;
        for (int d : axesDimsRope) {
            if (d % 2 != 0) throw new OvisException("transformer config: axes_dims_rope entries must be even");
            sum += d;
        }
        if (axesDimsRope.length != 3 || sum != attentionHeadDim)
            throw new OvisException("transformer config: axes_dims_rope must be 3 values summing to attention_head_dim "
                    + attentionHeadDim);
    }

    /**
     * The config of a checkpoint folder in either layout: diffusers' transformer/config.json, or the
     * original layout's optional arguments file (the official release hard-codes its arguments: 7B values).
     */
    public static TransformerConfig of(org.ovis4j.checkpoint.CheckpointFolder folder) {
        Path file = folder.transformerConfig();
        if (folder.layout() == org.ovis4j.checkpoint.Layout.DIFFUSERS) return fromDiffusers(file);
        return file != null ? fromOriginalArgs(file) : ovisImage7B();
    }

    /** Reads diffusers' transformer/config.json; {@code out_channels} null means in_channels. */
    public static TransformerConfig fromDiffusers(Path file) {
        return fromDiffusers(Config.read(file));
    }

    /** The values of a diffusers transformer config object. */
    public static TransformerConfig fromDiffusers(Config c) {
        int patch = c.getInt("patch_size", 1);
        if (patch != 1) throw new OvisException(c.where() + ": patch_size " + patch + " is not supported (expected 1)");
        int in = c.getInt("in_channels");
        return new TransformerConfig(in, c.has("out_channels") ? c.getInt("out_channels") : in,
                c.getInt("num_layers"), c.getInt("num_single_layers"), c.getInt("attention_head_dim"),
                c.getInt("num_attention_heads"), c.getInt("joint_attention_dim"), c.getIntArray("axes_dims_rope"));
    }

    /**
     * The original layout's arguments (OvisImageModelArgs as JSON, e.g. {@code ovis_image_args.json});
     * the release itself ships no such file, so without one the 7B values apply.
     */
    public static TransformerConfig fromOriginalArgs(Path file) {
        if (file == null || !Files.isRegularFile(file)) return ovisImage7B();
        Config c = Config.read(file);
        int hidden = c.getInt("hidden_size"), heads = c.getInt("num_heads");
        if (hidden % heads != 0) throw new OvisException(file + ": hidden_size is not a multiple of num_heads");
        double ratio = c.getDouble("mlp_ratio", 4.0);
        if (ratio != MLP_RATIO) throw new OvisException(file + ": mlp_ratio " + ratio + " is not supported (expected 4)");
        int in = c.getInt("in_channels");
        return new TransformerConfig(in, c.getInt("out_channels", in), c.getInt("depth"), c.getInt("depth_single_blocks"),
                hidden / heads, heads, c.getInt("context_in_dim"), c.getIntArray("axes_dim"));
    }

    /** Parameter count implied by the shapes (spec section 6). */
    public long parameterCount() {
        long d = innerDim(), f = mlpHidden(), dh = attentionHeadDim;
        long embed = d * inChannels + d + (long) TIME_EMBED_DIM * d + d + d * d + d + jointAttentionDim
                + (long) jointAttentionDim * d + d;
        long dbl = 2 * (6 * d * d + 6 * d) + 2 * (3 * (d * d + d)) + 4 * dh + 2 * (d * d + d)
                + 2 * (2 * f * d + 2 * f + d * f + d);
        long sgl = 3 * d * d + 3 * d + 3 * (d * d + d) + 2 * dh + 2 * f * d + 2 * f + d * (d + f) + d;
        long fin = 2 * d * d + 2 * d + (long) outChannels * d + outChannels;
        return embed + numLayers * dbl + numSingleLayers * sgl + fin;
    }
}
