package org.ovis4j.dit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.checkpoint.Layout;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;
import org.ovis4j.core.tensor.ParameterSpec;

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
     * The transformer's config in a checkpoint of either layout: diffusers' transformer/config.json,
     * or the original layout's optional arguments file (the official release hard-codes its
     * arguments, the tiny test checkpoint ships them as JSON).
     */
    public static TransformerConfig read(CheckpointFolder folder) {
        Path file = folder.transformerConfig();
        return folder.layout() == Layout.DIFFUSERS ? fromDiffusers(file) : fromOriginalArgs(file);
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

    /**
     * Every parameter of OvisImageTransformer2DModel with these sizes, in diffusers' names and
     * declaration order (spec section 3): the embedders, then each double-stream block (AdaLN
     * modulations [6D, D], the two streams' Q/K/V, per-head RMSNorms, output projections and SwiGLU
     * MLPs [2F, D] + [D, F]), each single-stream block (modulation [3D, D], Q/K/V, norms, the MLP's
     * input [2F, D] and the shared output [D, D + F]), and the output layer.
     */
    public List<ParameterSpec> parameters() {
        long d = innerDim(), f = mlpHidden(), dh = attentionHeadDim;
        ParameterSpec.Builder b = ParameterSpec.builder()
                .linear("x_embedder", d, inChannels, true)
                .linear("timestep_embedder.linear_1", d, TIME_EMBED_DIM, true)
                .linear("timestep_embedder.linear_2", d, d, true)
                .norm("context_embedder_norm", jointAttentionDim, false)
                .linear("context_embedder", d, jointAttentionDim, true);
        for (int i = 0; i < numLayers; i++) {
            String p = "transformer_blocks." + i + ".";
            b.linear(p + "norm1.linear", 6 * d, d, true).linear(p + "norm1_context.linear", 6 * d, d, true);
            for (String n : new String[] {"to_q", "to_k", "to_v", "add_q_proj", "add_k_proj", "add_v_proj"})
                b.linear(p + "attn." + n, d, d, true);
            for (String n : new String[] {"norm_q", "norm_k", "norm_added_q", "norm_added_k"}) b.norm(p + "attn." + n, dh, false);
            b.linear(p + "attn.to_out.0", d, d, true).linear(p + "attn.to_add_out", d, d, true);
            for (String ff : new String[] {"ff", "ff_context"})
                b.linear(p + ff + ".net.0.proj", 2 * f, d, true).linear(p + ff + ".net.2", d, f, true);
        }
        for (int i = 0; i < numSingleLayers; i++) {
            String p = "single_transformer_blocks." + i + ".";
            b.linear(p + "norm.linear", 3 * d, d, true);
            for (String n : new String[] {"to_q", "to_k", "to_v"}) b.linear(p + "attn." + n, d, d, true);
            b.norm(p + "attn.norm_q", dh, false).norm(p + "attn.norm_k", dh, false);
            b.linear(p + "proj_mlp", 2 * f, d, true).linear(p + "proj_out", d, d + f, true);
        }
        return b.linear("norm_out.linear", 2 * d, d, true).linear("proj_out", outChannels, d, true).build();
    }

    /** Parameter count implied by the shapes (spec section 6). */
    public long parameterCount() {
        return ParameterSpec.count(parameters());
    }
}
