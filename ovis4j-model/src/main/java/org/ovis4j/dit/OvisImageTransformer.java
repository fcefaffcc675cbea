package org.ovis4j.dit;

import java.util.concurrent.atomic.AtomicReference;
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
    /**
     * The last forward's activation buffers, kept for the next one (every denoising step has the same
     * shapes): a forward takes them out and puts them back, so concurrent forwards never share them.
     */
    private final AtomicReference<BlockBuffers> spareBuffers = new AtomicReference<>();

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

    /**
     * The matrices that multiply every token inside the blocks (attention and MLP projections): the
     * bulk of the work, and what a reduced-precision mode such as int8 applies to. Embedders, AdaLN
     * modulations and the output layer stay as they are.
     */
    public java.util.List<Linear> blockLayers() {
        var all = new java.util.ArrayList<Linear>();
        for (DoubleStreamBlock b : doubles) all.addAll(b.tokenLayers());
        for (SingleStreamBlock b : singles) all.addAll(b.tokenLayers());
        return all;
    }

    /** Drops the activation buffers kept between forwards (about 1 GiB per sample at 1024x1024): when denoising is over. */
    public void releaseBuffers() {
        spareBuffers.set(null);
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
        return forward(latents, img, new float[][] {text}, txt, sigma, ids)[0];
    }

    /**
     * One forward pass for a batch that shares latents and noise level and differs in its text (the
     * conditional and unconditional branches of classifier-free guidance): every weight is applied
     * to all samples at once, attention stays within each sample. Returns one velocity per text.
     */
    public float[][] forward(float[] latents, int img, float[][] texts, int txt, float sigma, float[] ids) {
        int d = cfg.innerDim(), samples = texts.length, rows = txt + img, width = cfg.jointAttentionDim();
        if (latents.length != img * cfg.inChannels() || ids.length != rows * 3)
            throw new OvisException("transformer: input sizes do not match (" + img + " image, " + txt + " text rows)");
        float[] stackedText = new float[samples * txt * width];
        for (int s = 0; s < samples; s++) {
            if (texts[s].length != txt * width)
                throw new OvisException("transformer: text " + s + " has " + texts[s].length + " values, expected " + txt * width);
            System.arraycopy(texts[s], 0, stackedText, s * txt * width, txt * width);
        }
        Norms.rmsNorm(stackedText, samples * txt, width, contextNorm, TransformerConfig.EPS, stackedText);
        float[] siluVec = Activations.siluCopy(time.forward(sigma));

        float[] h = new float[samples * rows * d];
        float[] textStates = contextEmbedder.apply(stackedText, samples * txt);
        float[] imageStates = xEmbedder.apply(latents, img);
        for (int s = 0; s < samples; s++) {
            System.arraycopy(textStates, s * txt * d, h, s * rows * d, txt * d);
            System.arraycopy(imageStates, 0, h, (s * rows + txt) * d, img * d);
        }

        float[] batchIds = new float[samples * ids.length];
        for (int s = 0; s < samples; s++) System.arraycopy(ids, 0, batchIds, s * ids.length, ids.length);
        PositionEmbedding pe = PositionEmbedding.of(batchIds, samples * rows, cfg.axesDimsRope(), TransformerConfig.ROPE_THETA);
        BlockBuffers buffers = spareBuffers.getAndSet(null);
        if (buffers == null || buffers.samples != samples || buffers.perSample != rows) {
            buffers = null; // let a spare of another shape go before allocating
            buffers = new BlockBuffers(samples, rows, d, cfg.mlpHidden());
        }
        for (DoubleStreamBlock blk : doubles) blk.forward(h, txt, img, siluVec, pe, buffers);
        for (SingleStreamBlock blk : singles) blk.forward(h, siluVec, pe, buffers);

        float[] scale = normOutScale.apply(siluVec, 1), shift = normOutShift.apply(siluVec, 1);
        float[] x = buffers.normed;
        for (int s = 0; s < samples; s++)
            Norms.layerNormModulate(h, (s * rows + txt) * d, img, d, TransformerConfig.EPS, shift, 0, scale, 0, x, s * img * d);
        float[] v = projOut.apply(x, samples * img);
        spareBuffers.set(buffers);
        float[][] out = new float[samples][];
        int per = img * cfg.outChannels();
        for (int s = 0; s < samples; s++) out[s] = java.util.Arrays.copyOfRange(v, s * per, (s + 1) * per);
        return out;
    }
}
