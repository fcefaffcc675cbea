package org.ovis4j.train.bench;

import java.util.Set;
import org.ovis4j.dit.TransformerConfig;

/**
 * The floating-point work of one training step of the MMDiT, counted the way throughput figures usually
 * are ("model FLOPs": a multiply-add is 2 FLOP; what the mathematics needs, not what an implementation
 * chooses to redo): the forward's products (every linear module and attention's QKᵀ and P·V), the
 * backward's products (dX = dY·W for every module, dW = dYᵀ·X for trained ones, attention's dV, dP, dQ,
 * dK: twice its forward), and a LoRA adapter's products on both sides. Recomputation (gradient
 * checkpointing, FlashAttention's recomputed scores) is not counted: it is time spent, not work done.
 * Element-wise work (norms, RoPE, SwiGLU, softmax) is left out on both sides of a comparison alike.
 *
 * <p>The optimizer's figure is a stated convention, since AdamW is bound by memory traffic: 16 FLOP per
 * trained value (AdamW's decay, two moments, square root, division and update, about 13, and clipping's
 * square-and-add and scaling, 3).
 *
 * @param forward   FLOP of one forward over the batch
 * @param backward  FLOP of its backward
 * @param optimizer FLOP of clipping and one AdamW step (16 per trained value)
 */
public record StepFlops(double forward, double backward, double optimizer) {
    public static final int OPTIMIZER_FLOP_PER_VALUE = 16;

    /**
     * @param trainBase    whether the checkpoint's weights are trained (their dW counted)
     * @param loraModules  diffusers module paths carrying a LoRA adapter of {@code rank} (empty: none)
     * @param trained      number of trained values (for the optimizer)
     */
    public static StepFlops of(TransformerConfig cfg, int samples, int imageTokens, int textTokens, boolean trainBase,
                               Set<String> loraModules, int rank, long trained) {
        Counter c = new Counter(trainBase, loraModules, rank);
        long b = samples, n = imageTokens, t = textTokens, l = n + t;
        long d = cfg.innerDim(), f = cfg.mlpHidden();
        c.linear("x_embedder", b * n, cfg.inChannels(), d);
        c.linear("timestep_embedder.linear_1", b, TransformerConfig.TIME_EMBED_DIM, d);
        c.linear("timestep_embedder.linear_2", b, d, d);
        c.linear("context_embedder", b * t, cfg.jointAttentionDim(), d);
        for (int i = 0; i < cfg.numLayers(); i++) {
            String p = "transformer_blocks." + i + ".";
            c.linear(p + "norm1.linear", b, d, 6 * d);
            c.linear(p + "norm1_context.linear", b, d, 6 * d);
            for (String s : new String[] {"to_q", "to_k", "to_v", "to_out.0"}) c.linear(p + "attn." + s, b * n, d, d);
            for (String s : new String[] {"add_q_proj", "add_k_proj", "add_v_proj", "to_add_out"}) c.linear(p + "attn." + s, b * t, d, d);
            c.linear(p + "ff.net.0.proj", b * n, d, 2 * f);
            c.linear(p + "ff.net.2", b * n, f, d);
            c.linear(p + "ff_context.net.0.proj", b * t, d, 2 * f);
            c.linear(p + "ff_context.net.2", b * t, f, d);
            c.attention(b, l, d);
        }
        for (int i = 0; i < cfg.numSingleLayers(); i++) {
            String p = "single_transformer_blocks." + i + ".";
            c.linear(p + "norm.linear", b, d, 3 * d);
            for (String s : new String[] {"to_q", "to_k", "to_v"}) c.linear(p + "attn." + s, b * l, d, d);
            c.linear(p + "proj_mlp", b * l, d, 2 * f);
            c.linear(p + "proj_out", b * l, d + f, d);
            c.attention(b, l, d);
        }
        c.linear("norm_out.linear", b, d, 2 * d);
        c.linear("proj_out", b * n, d, cfg.outChannels());
        return new StepFlops(2 * c.forwardMacs, 2 * c.backwardMacs, (double) OPTIMIZER_FLOP_PER_VALUE * trained);
    }

    private static final class Counter {
        final boolean trainBase;
        final Set<String> lora;
        final int rank;
        double forwardMacs, backwardMacs;

        Counter(boolean trainBase, Set<String> lora, int rank) {
            this.trainBase = trainBase;
            this.lora = lora;
            this.rank = rank;
        }

        void linear(String module, long rows, long in, long out) {
            double macs = (double) rows * in * out;
            forwardMacs += macs;
            backwardMacs += trainBase ? 2 * macs : macs; // dX, and dW when trained
            if (lora.contains(module)) {
                double adapter = (double) rows * rank * (in + out); // x·Aᵀ, then ·Bᵀ
                forwardMacs += adapter;
                backwardMacs += 2 * adapter; // dB and dU, dA and dX
            }
        }

        void attention(long samples, long rows, long width) {
            double macs = 2.0 * samples * rows * rows * width; // QKᵀ and P·V over all heads
            forwardMacs += macs;
            backwardMacs += 2 * macs; // dV = Pᵀ·dO, dP = dO·Vᵀ, dQ = dS·K, dK = dSᵀ·Q
        }
    }
}
