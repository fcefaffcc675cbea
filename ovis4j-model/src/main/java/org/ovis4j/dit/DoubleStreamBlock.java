package org.ovis4j.dit;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.Linear;
import org.ovis4j.core.kernel.Norms;

/**
 * MMDiT double-stream block (spec 3.5): text and image keep separate weights for modulation,
 * projections and MLPs, and meet only in one joint attention over [text; image].
 */
final class DoubleStreamBlock {
    private final Linear imgMod, txtMod, imgOut, txtOut;
    private final JointAttention imgAttn, txtAttn;
    private final FeedForward imgFf, txtFf;
    private final TransformerConfig cfg;

    DoubleStreamBlock(Weights w, int index, TransformerConfig cfg) {
        this.cfg = cfg;
        String p = "transformer_blocks." + index + ".";
        imgMod = new Linear(w.get(p + "norm1.linear.weight"), w.get(p + "norm1.linear.bias"));
        txtMod = new Linear(w.get(p + "norm1_context.linear.weight"), w.get(p + "norm1_context.linear.bias"));
        imgAttn = new JointAttention(w, p + "attn.", "to_q", "to_k", "to_v", "norm_q", "norm_k");
        txtAttn = new JointAttention(w, p + "attn.", "add_q_proj", "add_k_proj", "add_v_proj", "norm_added_q", "norm_added_k");
        imgOut = new Linear(w.get(p + "attn.to_out.0.weight"), w.get(p + "attn.to_out.0.bias"));
        txtOut = new Linear(w.get(p + "attn.to_add_out.weight"), w.get(p + "attn.to_add_out.bias"));
        imgFf = new FeedForward(w, p + "ff.net.0.proj", cfg.mlpHidden(), p + "ff.net.2");
        txtFf = new FeedForward(w, p + "ff_context.net.0.proj", cfg.mlpHidden(), p + "ff_context.net.2");
    }

    /**
     * Updates the residual stream h [L, D] in place: rows [0, txt) are text, the rest image.
     * {@code siluVec} is SiLU of the timestep conditioning vector.
     */
    void forward(float[] h, int txt, int img, float[] siluVec, PositionEmbedding pe, JointAttention.Buffers b) {
        int d = cfg.innerDim();
        float[] im = imgMod.apply(siluVec, 1); // shift, scale, gate (attention), shift, scale, gate (MLP)
        float[] tm = txtMod.apply(siluVec, 1);
        float[] tn = new float[txt * d], xn = new float[img * d];
        Norms.layerNormModulate(h, 0, txt, d, TransformerConfig.EPS, tm, 0, tm, d, tn, 0);
        Norms.layerNormModulate(h, txt * d, img, d, TransformerConfig.EPS, im, 0, im, d, xn, 0);
        txtAttn.project(tn, txt, b, 0, cfg.attentionHeadDim());
        imgAttn.project(xn, img, b, txt, cfg.attentionHeadDim());
        float[] attn = new float[(txt + img) * d];
        JointAttention.attend(b, pe, cfg.numAttentionHeads(), cfg.attentionHeadDim(), attn, d);

        float[] t = txtOut.apply(java.util.Arrays.copyOfRange(attn, 0, txt * d), txt);
        Activations.gatedAdd(h, 0, t, txt, d, tm, 2 * d);
        float[] x = new float[img * d];
        imgOut.forward(attn, txt * d, img, x, 0);
        Activations.gatedAdd(h, txt * d, x, img, d, im, 2 * d);

        Norms.layerNormModulate(h, 0, txt, d, TransformerConfig.EPS, tm, 3 * d, tm, 4 * d, tn, 0);
        Activations.gatedAdd(h, 0, txtFf.forward(tn, txt), txt, d, tm, 5 * d);
        Norms.layerNormModulate(h, txt * d, img, d, TransformerConfig.EPS, im, 3 * d, im, 4 * d, xn, 0);
        Activations.gatedAdd(h, txt * d, imgFf.forward(xn, img), img, d, im, 5 * d);
    }
}
