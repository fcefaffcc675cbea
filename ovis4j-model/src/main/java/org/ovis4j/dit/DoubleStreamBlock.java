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

    /** The token-wise matrices (the AdaLN modulations, one row each, are not among them). */
    java.util.List<Linear> tokenLayers() {
        var all = new java.util.ArrayList<Linear>(imgAttn.projections());
        all.addAll(txtAttn.projections());
        all.addAll(java.util.List.of(imgOut, txtOut));
        all.addAll(imgFf.layers());
        all.addAll(txtFf.layers());
        return all;
    }

    /**
     * Updates the residual stream h in place: {@code samples} blocks of L = txt + img rows, each
     * [text; image]. Both streams of all samples go through their matrices together (one multiply
     * per weight for the whole batch); attention stays within each sample. {@code siluVec} is SiLU
     * of the timestep conditioning vector, shared by the batch.
     */
    void forward(float[] h, int txt, int img, float[] siluVec, PositionEmbedding pe, BlockBuffers b) {
        int d = cfg.innerDim(), l = txt + img, samples = b.samples;
        float[] im = imgMod.apply(siluVec, 1); // shift, scale, gate (attention), shift, scale, gate (MLP)
        float[] tm = txtMod.apply(siluVec, 1);
        int xn = samples * txt * d; // b.normed: the text rows of all samples, then their image rows
        normModulate(h, samples, l, 0, txt, tm, 0, b.normed, 0);
        normModulate(h, samples, l, txt, img, im, 0, b.normed, xn);
        txtAttn.projectSamples(b.normed, 0, txt, b, 0, cfg.attentionHeadDim());
        imgAttn.projectSamples(b.normed, xn, img, b, txt, cfg.attentionHeadDim());
        float[] attn = b.mixed; // [rows, D] here
        JointAttention.attend(b, pe, cfg.numAttentionHeads(), cfg.attentionHeadDim(), attn, d);

        gather(attn, samples, l, 0, txt, d, b.staging);
        txtOut.forward(b.staging, samples * txt, b.projected);
        gatedAdd(h, samples, l, 0, txt, b.projected, tm, 2 * d);
        gather(attn, samples, l, txt, img, d, b.staging);
        imgOut.forward(b.staging, samples * img, b.projected);
        gatedAdd(h, samples, l, txt, img, b.projected, im, 2 * d);

        normModulate(h, samples, l, 0, txt, tm, 3 * d, b.normed, 0);
        txtFf.forward(b.normed, 0, samples * txt, b);
        gatedAdd(h, samples, l, 0, txt, b.projected, tm, 5 * d);
        normModulate(h, samples, l, txt, img, im, 3 * d, b.normed, 0);
        imgFf.forward(b.normed, 0, samples * img, b);
        gatedAdd(h, samples, l, txt, img, b.projected, im, 5 * d);
    }

    /** LayerNorm + modulation (shift at mOff, scale at mOff + D) of rows [from, from + n) of each sample, stacked into out from outOff. */
    private void normModulate(float[] h, int samples, int l, int from, int n, float[] m, int mOff, float[] out, int outOff) {
        int d = cfg.innerDim();
        for (int s = 0; s < samples; s++)
            Norms.layerNormModulate(h, (s * l + from) * d, n, d, TransformerConfig.EPS, m, mOff, m, mOff + d, out, outOff + s * n * d);
    }

    /** h rows [from, from + n) of each sample += gate ⊙ x, x holding those rows stacked. */
    private void gatedAdd(float[] h, int samples, int l, int from, int n, float[] x, float[] m, int gOff) {
        int d = cfg.innerDim();
        for (int s = 0; s < samples; s++)
            Activations.gatedAdd(h, (s * l + from) * d, x, s * n * d, n, d, m, gOff);
    }

    /** Rows [from, from + n) of each sample, stacked into out. */
    private static void gather(float[] rows, int samples, int l, int from, int n, int d, float[] out) {
        for (int s = 0; s < samples; s++) System.arraycopy(rows, (s * l + from) * d, out, s * n * d, n * d);
    }
}
