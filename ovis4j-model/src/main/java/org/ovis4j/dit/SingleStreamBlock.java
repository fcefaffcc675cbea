package org.ovis4j.dit;

import org.ovis4j.checkpoint.Projections;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.AttentionKernel;
import org.ovis4j.core.kernel.Norms;
import org.ovis4j.core.kernel.Projection;

/**
 * MMDiT single-stream block (spec 3.6): one set of weights over the concatenated sequence; attention
 * and the SwiGLU MLP run in parallel from the same normed input and share one output projection.
 */
final class SingleStreamBlock {
    private final Projection mod, projOut;
    private final JointAttention attn;
    private final FeedForward mlp;
    private final TransformerConfig cfg;

    SingleStreamBlock(Projections m, int index, TransformerConfig cfg) {
        this.cfg = cfg;
        String p = "single_transformer_blocks." + index + ".";
        mod = m.of(p + "norm.linear");
        attn = new JointAttention(m, p + "attn.", "to_q", "to_k", "to_v", "norm_q", "norm_k", cfg.attentionHeadDim());
        mlp = new FeedForward(m, p + "proj_mlp", cfg.mlpHidden(), null);
        projOut = m.of(p + "proj_out");
    }

    /**
     * Updates h [rows, D] in place (all samples of a batch: the weights are the same for every row);
     * each sample's rows are modulated by the conditioning vector of its own σ.
     */
    void forward(float[] h, Conditioning c, AttentionKernel kernel, PositionEmbedding pe, BlockBuffers b) {
        int d = cfg.innerDim(), f = cfg.mlpHidden(), rows = b.rows, l = b.perSample;
        float[] m = mod.apply(c.silu(), c.distinct()); // per distinct σ: shift, scale, gate
        for (int s = 0; s < b.samples; s++) {
            int at = c.offset(s, 3 * d);
            Norms.layerNormModulate(h, s * l * d, l, d, TransformerConfig.EPS, m, at, m, at + d, b.normed, s * l * d);
        }
        attn.project(b.normed, rows, b, 0, cfg.attentionHeadDim());
        // b.mixed holds [attention | MLP hidden] per row: the shared output projection's input.
        JointAttention.attend(kernel, b, pe, cfg.numAttentionHeads(), cfg.attentionHeadDim(), b.mixed, d + f);
        mlp.hidden(b.normed, 0, rows, b.mixed, d + f, d, b.gate);
        projOut.forward(b.mixed, rows, b.projected);
        for (int s = 0; s < b.samples; s++)
            Activations.gatedAdd(h, s * l * d, b.projected, s * l * d, l, d, m, c.offset(s, 3 * d) + 2 * d);
    }
}
