package org.ovis4j.dit;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.Linear;
import org.ovis4j.core.kernel.Norms;

/**
 * MMDiT single-stream block (spec 3.6): one set of weights over the concatenated sequence; attention
 * and the SwiGLU MLP run in parallel from the same normed input and share one output projection.
 */
final class SingleStreamBlock {
    private final Linear mod, projOut;
    private final JointAttention attn;
    private final FeedForward mlp;
    private final TransformerConfig cfg;

    SingleStreamBlock(Weights w, int index, TransformerConfig cfg) {
        this.cfg = cfg;
        String p = "single_transformer_blocks." + index + ".";
        mod = new Linear(w.get(p + "norm.linear.weight"), w.get(p + "norm.linear.bias"));
        attn = new JointAttention(w, p + "attn.", "to_q", "to_k", "to_v", "norm_q", "norm_k");
        mlp = new FeedForward(w, p + "proj_mlp", cfg.mlpHidden(), null);
        projOut = new Linear(w.get(p + "proj_out.weight"), w.get(p + "proj_out.bias"));
    }

    /** The token-wise matrices (the AdaLN modulation, one row, is not among them). */
    java.util.List<Linear> tokenLayers() {
        var all = new java.util.ArrayList<Linear>(attn.projections());
        all.addAll(mlp.layers());
        all.add(projOut);
        return all;
    }

    /** Updates h [rows, D] in place (all samples of a batch: the weights are the same for every row); siluVec = SiLU(conditioning vector). */
    void forward(float[] h, int rows, float[] siluVec, PositionEmbedding pe, JointAttention.Buffers b) {
        int d = cfg.innerDim(), f = cfg.mlpHidden();
        float[] m = mod.apply(siluVec, 1); // shift, scale, gate
        float[] n = new float[rows * d];
        Norms.layerNormModulate(h, 0, rows, d, TransformerConfig.EPS, m, 0, m, d, n, 0);
        attn.project(n, rows, b, 0, cfg.attentionHeadDim());
        float[] cat = new float[rows * (d + f)]; // [attention | MLP hidden] per row
        JointAttention.attend(b, pe, cfg.numAttentionHeads(), cfg.attentionHeadDim(), cat, d + f);
        mlp.hidden(n, rows, cat, d + f, d);
        Activations.gatedAdd(h, projOut.apply(cat, rows), rows, d, m, 2 * d);
    }
}
