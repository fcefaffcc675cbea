package org.ovis4j.dit;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.checkpoint.Projections;
import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.AttentionKernel;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.kernel.DenseProjection.Storage;
import org.ovis4j.core.kernel.Norms;
import org.ovis4j.core.kernel.Projection;
import org.ovis4j.lora.LoraAdapter;

/**
 * The Ovis-Image MMDiT (spec section 3): packed latents and text states in, velocity out. One
 * residual buffer holds [text; image] rows so that single-stream blocks need no concatenation.
 *
 * <p>Immutable: weights, their prepared forms and the compute context are fixed when it is built;
 * the activations of a forward live in the caller's {@link TransformerWorkspace}, so concurrent
 * forwards with their own workspaces never share state.
 */
public final class OvisImageTransformer {
    private final TransformerConfig cfg;
    private final Projections modules;
    private final AttentionKernel attention;
    private final Projection xEmbedder, contextEmbedder, normOutScale, normOutShift, projOut;
    private final float[] contextNorm;
    private final TimestepEmbedding time;
    private final DoubleStreamBlock[] doubles;
    private final SingleStreamBlock[] singles;

    /** On the portable Java float32 kernels ({@link ComputeContext#JAVA}), every matrix packed. */
    public OvisImageTransformer(TransformerConfig cfg, Weights w) {
        this(cfg, w, ComputeContext.JAVA, false);
    }

    /**
     * @param int8 the block matrices as int8 W8A8 ({@link #tokenWise}); needs a context whose
     *             backend has an int8 matmul, and fails here without one
     */
    public OvisImageTransformer(TransformerConfig cfg, Weights w, ComputeContext context, boolean int8) {
        this(cfg, new Projections("transformer", w, context, cfg.parameters(),
                module -> int8 && tokenWise(module) ? Storage.INT8 : Storage.PACKED));
    }

    private OvisImageTransformer(TransformerConfig cfg, Projections m) {
        this.cfg = cfg;
        this.modules = m;
        this.attention = m.context().attention();
        int d = cfg.innerDim();
        xEmbedder = m.of("x_embedder");
        contextNorm = m.weights().get("context_embedder_norm.weight").expectShape(cfg.jointAttentionDim()).toFloats();
        contextEmbedder = m.of("context_embedder");
        time = new TimestepEmbedding(m);
        doubles = new DoubleStreamBlock[cfg.numLayers()];
        for (int i = 0; i < doubles.length; i++) doubles[i] = new DoubleStreamBlock(m, i, cfg);
        singles = new SingleStreamBlock[cfg.numSingleLayers()];
        for (int i = 0; i < singles.length; i++) singles[i] = new SingleStreamBlock(m, i, cfg);
        normOutScale = m.rows("norm_out.linear", 0, d);
        normOutShift = m.rows("norm_out.linear", d, 2L * d);
        projOut = m.of("proj_out");
    }

    /**
     * True for the matrices that multiply every token inside the blocks (attention and MLP
     * projections): the bulk of the work, and what a reduced-precision mode such as int8 applies to.
     * Not the AdaLN modulations ({@code norm1.linear}, {@code norm1_context.linear},
     * {@code norm.linear}: one row per σ), the embedders or the output layer.
     */
    public static boolean tokenWise(String module) {
        boolean inBlock = module.startsWith("transformer_blocks.") || module.startsWith("single_transformer_blocks.");
        return inBlock && !module.endsWith(".linear");
    }

    /**
     * This transformer with LoRA adapters on the modules they name (several on one module add up).
     * Every other module, and every adapted module's base, is this transformer's own object: the
     * weights are prepared once for both. This transformer is unchanged.
     */
    public OvisImageTransformer withLora(List<LoraAdapter> adapters) {
        return new OvisImageTransformer(cfg, modules.withAdapters(adapters));
    }

    public TransformerConfig config() {
        return cfg;
    }

    /**
     * One forward pass for one sample, in a workspace of its own (for tools and tests; repeated
     * forwards should share a {@link TransformerWorkspace}).
     *
     * @param latents packed latents [img, in_channels]
     * @param text    text states [txt, joint_attention_dim] (pad rows included, unmasked)
     * @param sigma   noise level in [0, 1]; the model scales it by 1000
     * @param ids     position ids [(txt + img), 3], text rows first
     * @return velocity [img, out_channels]
     */
    public float[] forward(float[] latents, int img, float[] text, int txt, float sigma, float[] ids) {
        return forward(new TransformerWorkspace(), latents, img, new float[][] {text}, txt, sigma, ids)[0];
    }

    /**
     * One forward pass for a batch that shares latents and noise level and differs in its text (the
     * conditional and unconditional branches of classifier-free guidance): every weight is applied
     * to all samples at once, attention stays within each sample. Returns one velocity per text.
     */
    public float[][] forward(TransformerWorkspace ws, float[] latents, int img, float[][] texts, int txt, float sigma, float[] ids) {
        return forward(ws, new float[][] {latents}, img, texts, txt, new float[] {sigma}, ids);
    }

    /**
     * One forward pass for a batch of samples with their own text, latents and noise level (a
     * training batch mixes timesteps): {@code latents} and {@code sigmas} hold one entry per sample,
     * or a single one that all samples share. Samples with equal σ share one conditioning vector
     * and latents given once are embedded once, so a batch of identical σ and latents computes
     * exactly what the shared form does.
     *
     * @return velocity [img, out_channels] per sample
     */
    public float[][] forward(TransformerWorkspace ws, float[][] latents, int img, float[][] texts, int txt, float[] sigmas, float[] ids) {
        int d = cfg.innerDim(), samples = texts.length, rows = txt + img, width = cfg.jointAttentionDim();
        if (samples == 0) throw new OvisException("transformer: empty batch");
        if ((latents.length != 1 && latents.length != samples) || (sigmas.length != 1 && sigmas.length != samples))
            throw new OvisException("transformer: " + samples + " texts, " + latents.length + " latents and " + sigmas.length
                    + " sigmas (give one of each per sample, or one for all)");
        if (ids.length != rows * 3) throw new OvisException("transformer: input sizes do not match (" + img + " image, " + txt + " text rows)");
        for (float[] x : latents)
            if (x.length != img * cfg.inChannels())
                throw new OvisException("transformer: input sizes do not match (" + img + " image, " + txt + " text rows)");
        float[] stackedText = new float[samples * txt * width];
        for (int s = 0; s < samples; s++) {
            if (texts[s].length != txt * width)
                throw new OvisException("transformer: text " + s + " has " + texts[s].length + " values, expected " + txt * width);
            System.arraycopy(texts[s], 0, stackedText, s * txt * width, txt * width);
        }
        Norms.rmsNorm(stackedText, samples * txt, width, contextNorm, TransformerConfig.EPS, stackedText);
        Conditioning c = conditioning(sigmas, samples);

        float[] h = new float[samples * rows * d];
        float[] textStates = contextEmbedder.apply(stackedText, samples * txt);
        float[] imageStates = xEmbedder.apply(latents.length == 1 ? latents[0] : stack(latents), latents.length * img);
        for (int s = 0; s < samples; s++) {
            System.arraycopy(textStates, s * txt * d, h, s * rows * d, txt * d);
            System.arraycopy(imageStates, latents.length == 1 ? 0 : s * img * d, h, (s * rows + txt) * d, img * d);
        }

        float[] batchIds = new float[samples * ids.length];
        for (int s = 0; s < samples; s++) System.arraycopy(ids, 0, batchIds, s * ids.length, ids.length);
        PositionEmbedding pe = PositionEmbedding.of(batchIds, samples * rows, cfg.axesDimsRope(), TransformerConfig.ROPE_THETA);
        BlockBuffers buffers = ws.buffers(samples, rows, d, cfg.mlpHidden());
        for (DoubleStreamBlock blk : doubles) blk.forward(h, txt, img, c, attention, pe, buffers);
        for (SingleStreamBlock blk : singles) blk.forward(h, c, attention, pe, buffers);

        float[] scale = normOutScale.apply(c.silu(), c.distinct()), shift = normOutShift.apply(c.silu(), c.distinct());
        float[] x = buffers.normed;
        for (int s = 0; s < samples; s++)
            Norms.layerNormModulate(h, (s * rows + txt) * d, img, d, TransformerConfig.EPS,
                    shift, c.offset(s, d), scale, c.offset(s, d), x, s * img * d);
        float[] v = projOut.apply(x, samples * img);
        float[][] out = new float[samples][];
        int per = img * cfg.outChannels();
        for (int s = 0; s < samples; s++) out[s] = Arrays.copyOfRange(v, s * per, (s + 1) * per);
        return out;
    }

    /** SiLU of the conditioning vector of each distinct σ, in order of first appearance. */
    private Conditioning conditioning(float[] sigmas, int samples) {
        Map<Float, Integer> distinct = new LinkedHashMap<>();
        int[] row = new int[samples];
        for (int s = 0; s < samples; s++) {
            float sigma = sigmas.length == 1 ? sigmas[0] : sigmas[s];
            row[s] = distinct.computeIfAbsent(sigma, k -> distinct.size());
        }
        float[] values = new float[distinct.size()];
        int i = 0;
        for (float sigma : distinct.keySet()) values[i++] = sigma;
        return new Conditioning(Activations.siluCopy(time.forward(values)), values.length, row);
    }

    private static float[] stack(float[][] parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] all = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
