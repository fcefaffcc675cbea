package org.ovis4j.dit;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.Linear;
import org.ovis4j.core.kernel.Norms;

/**
 * The Ovis-Image MMDiT (spec section 3): packed latents and text states in, velocity out. One
 * residual buffer holds [text; image] rows so that single-stream blocks need no concatenation.
 */
public final class OvisImageTransformer {
    private final TransformerConfig cfg;
    private final Linear xEmbedder, contextEmbedder, normOutScale, normOutShift, projOut;
    private final float[] contextNorm;
    private final TimestepEmbedding time;
    private final DoubleStreamBlock[] doubles;
    private final SingleStreamBlock[] singles;

    public OvisImageTransformer(TransformerConfig cfg, Weights w) {
        this.cfg = cfg;
        int d = cfg.innerDim();
        xEmbedder = new Linear(w.get("x_embedder.weight").expectShape(d, cfg.inChannels()), w.get("x_embedder.bias"));
        contextNorm = w.get("context_embedder_norm.weight").expectShape(cfg.jointAttentionDim()).toFloats();
        contextEmbedder = new Linear(w.get("context_embedder.weight").expectShape(d, cfg.jointAttentionDim()),
                w.get("context_embedder.bias"));
        time = new TimestepEmbedding(w);
        doubles = new DoubleStreamBlock[cfg.numLayers()];
        for (int i = 0; i < doubles.length; i++) doubles[i] = new DoubleStreamBlock(w, i, cfg);
        singles = new SingleStreamBlock[cfg.numSingleLayers()];
        for (int i = 0; i < singles.length; i++) singles[i] = new SingleStreamBlock(w, i, cfg);
        normOutScale = new Linear(w.rows("norm_out.linear.weight", 0, d), w.rows("norm_out.linear.bias", 0, d));
        normOutShift = new Linear(w.rows("norm_out.linear.weight", d, 2L * d), w.rows("norm_out.linear.bias", d, 2L * d));
        projOut = new Linear(w.get("proj_out.weight").expectShape(cfg.outChannels(), d), w.get("proj_out.bias"));
    }

    public TransformerConfig config() {
        return cfg;
    }

    /**
     * One forward pass for one sample.
     *
     * @param latents packed latents [img, in_channels]
     * @param text    text states [txt, joint_attention_dim] (pad rows included, unmasked)
     * @param sigma   noise level in [0, 1]; the model scales it by 1000
     * @param ids     position ids [(txt + img), 3], text rows first
     * @return velocity [img, out_channels]
     */
    public float[] forward(float[] latents, int img, float[] text, int txt, float sigma, float[] ids) {
        int d = cfg.innerDim();
        if (latents.length != img * cfg.inChannels() || text.length != txt * cfg.jointAttentionDim()
                || ids.length != (txt + img) * 3)
            throw new OvisException("transformer: input sizes do not match (" + img + " image, " + txt + " text rows)");
        int rows = txt + img;
        float[] vec = time.forward(sigma);
        float[] siluVec = Activations.siluCopy(vec);

        float[] h = new float[rows * d];
        float[] normed = new float[text.length];
        Norms.rmsNorm(text, txt, cfg.jointAttentionDim(), contextNorm, TransformerConfig.EPS, normed);
        contextEmbedder.forward(normed, 0, txt, h, 0);
        xEmbedder.forward(latents, 0, img, h, txt * d);

        PositionEmbedding pe = PositionEmbedding.of(ids, rows, cfg.axesDimsRope(), TransformerConfig.ROPE_THETA);
        JointAttention.Buffers buffers = new JointAttention.Buffers(rows, d);
        for (DoubleStreamBlock blk : doubles) blk.forward(h, txt, img, siluVec, pe, buffers);
        for (SingleStreamBlock blk : singles) blk.forward(h, rows, siluVec, pe, buffers);

        float[] scale = normOutScale.apply(siluVec, 1), shift = normOutShift.apply(siluVec, 1);
        float[] x = new float[img * d];
        Norms.layerNormModulate(h, txt * d, img, d, TransformerConfig.EPS, shift, 0, scale, 0, x, 0);
        return projOut.apply(x, img);
    }
}
