package org.ovis4j.dit;

import org.ovis4j.checkpoint.Projections;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.AttentionKernel;
import org.ovis4j.core.kernel.Norms;
import org.ovis4j.core.kernel.Projection;

/**
 * MMDiT double-stream block (spec 3.5): text and image keep separate weights for modulation,
 * projections and MLPs, and meet only in one joint attention over [text; image].
 */
final class DoubleStreamBlock {
    private final Projection imgMod, txtMod, imgOut, txtOut;
    private final JointAttention imgAttn, txtAttn;
    private final FeedForward imgFf, txtFf;
    private final TransformerConfig cfg;

    DoubleStreamBlock(Projections m, int index, TransformerConfig cfg) {
        this.cfg = cfg;
        String p = "transformer_blocks." + index + ".";
        int dh = cfg.attentionHeadDim();
        imgMod = m.of(p + "norm1.linear");
        txtMod = m.of(p + "norm1_context.linear");
        imgAttn = new JointAttention(m, p + "attn.", "to_q", "to_k", "to_v", "norm_q", "norm_k", dh);
        txtAttn = new JointAttention(m, p + "attn.", "add_q_proj", "add_k_proj", "add_v_proj", "norm_added_q", "norm_added_k", dh);
        imgOut = m.of(p + "attn.to_out.0");
        txtOut = m.of(p + "attn.to_add_out");
        imgFf = new FeedForward(m, p + "ff.net.0.proj", cfg.mlpHidden(), p + "ff.net.2");
        txtFf = new FeedForward(m, p + "ff_context.net.0.proj", cfg.mlpHidden(), p + "ff_context.net.2");
    }

    /**
     * Updates the residual stream h in place: {@code samples} blocks of L = txt + img rows, each
     * [text; image]. Both streams of all samples go through their matrices together (one multiply
     * per weight for the whole batch); attention stays within each sample. Each sample is modulated
     * by the conditioning vector of its own σ.
     */
    void forward(float[] h, int txt, int img, Conditioning c, AttentionKernel kernel, PositionEmbedding pe, BlockBuffers b) {
        int d = cfg.innerDim(), l = txt + img, samples = b.samples;
        // per distinct σ: shift, scale, gate (attention), shift, scale, gate (MLP)
        float[] im = imgMod.apply(c.silu(), c.distinct());
        float[] tm = txtMod.apply(c.silu(), c.distinct());
        int xn = samples * txt * d; // b.normed: the text rows of all samples, then their image rows
        normModulate(h, c, l, 0, txt, tm, 0, b.normed, 0);
        normModulate(h, c, l, txt, img, im, 0, b.normed, xn);
        txtAttn.projectSamples(b.normed, 0, txt, b, 0, cfg.attentionHeadDim());
        imgAttn.projectSamples(b.normed, xn, img, b, txt, cfg.attentionHeadDim());
        float[] attn = b.mixed; // [rows, D] here
        JointAttention.attend(kernel, b, pe, cfg.numAttentionHeads(), cfg.attentionHeadDim(), attn, d);

        gather(attn, samples, l, 0, txt, d, b.staging);
        txtOut.forward(b.staging, samples * txt, b.projected);
        gatedAdd(h, c, l, 0, txt, b.projected, tm, 2 * d);
        gather(attn, samples, l, txt, img, d, b.staging);
        imgOut.forward(b.staging, samples * img, b.projected);
        gatedAdd(h, c, l, txt, img, b.projected, im, 2 * d);

        normModulate(h, c, l, 0, txt, tm, 3 * d, b.normed, 0);
        txtFf.forward(b.normed, 0, samples * txt, b);
        gatedAdd(h, c, l, 0, txt, b.projected, tm, 5 * d);
        normModulate(h, c, l, txt, img, im, 3 * d, b.normed, 0);
        imgFf.forward(b.normed, 0, samples * img, b);
        gatedAdd(h, c, l, txt, img, b.projected, im, 5 * d);
    }

    /**
     * LayerNorm + modulation (shift at mOff, scale at mOff + D of the sample's row of m [distinct, 6D])
     * of rows [from, from + n) of each sample, stacked into out from outOff.
     */
    private void normModulate(float[] h, Conditioning c, int l, int from, int n, float[] m, int mOff, float[] out, int outOff) {
        int d = cfg.innerDim();
        for (int s = 0; s < c.row().length; s++) {
            int at = c.offset(s, 6 * d) + mOff;
            Norms.layerNormModulate(h, (s * l + from) * d, n, d, TransformerConfig.EPS, m, at, m, at + d, out, outOff + s * n * d);
        }
    }

    /** h rows [from, from + n) of each sample += gate ⊙ x, x holding those rows stacked, the gate at gOff of the sample's row of m. */
    private void gatedAdd(float[] h, Conditioning c, int l, int from, int n, float[] x, float[] m, int gOff) {
        int d = cfg.innerDim();
        for (int s = 0; s < c.row().length; s++)
            Activations.gatedAdd(h, (s * l + from) * d, x, s * n * d, n, d, m, c.offset(s, 6 * d) + gOff);
    }

    /** Rows [from, from + n) of each sample, stacked into out. */
    private static void gather(float[] rows, int samples, int l, int from, int n, int d, float[] out) {
        for (int s = 0; s < samples; s++) System.arraycopy(rows, (s * l + from) * d, out, s * n * d, n * d);
    }
}
