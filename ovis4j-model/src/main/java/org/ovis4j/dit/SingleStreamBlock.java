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
    void forward(float[] h, float[] siluVec, PositionEmbedding pe, BlockBuffers b) {
        int d = cfg.innerDim(), f = cfg.mlpHidden(), rows = b.rows;
        float[] m = mod.apply(siluVec, 1); // shift, scale, gate
        Norms.layerNormModulate(h, 0, rows, d, TransformerConfig.EPS, m, 0, m, d, b.normed, 0);
        attn.project(b.normed, rows, b, 0, cfg.attentionHeadDim());
        // b.mixed holds [attention | MLP hidden] per row: the shared output projection's input.
        JointAttention.attend(b, pe, cfg.numAttentionHeads(), cfg.attentionHeadDim(), b.mixed, d + f);
        mlp.hidden(b.normed, 0, rows, b.mixed, d + f, d, b.gate);
        projOut.forward(b.mixed, rows, b.projected);
        Activations.gatedAdd(h, b.projected, rows, d, m, 2 * d);
    }
}
