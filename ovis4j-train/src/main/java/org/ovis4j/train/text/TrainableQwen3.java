package org.ovis4j.train.text;

import java.nio.file.Path;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.ParameterSpec;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.text.Qwen3Config;
import org.ovis4j.text.Qwen3Model;
import org.ovis4j.train.ops.AttentionOp;
import org.ovis4j.train.ops.LinearOp;
import org.ovis4j.train.ops.RmsNormOp;
import org.ovis4j.train.ops.RopeOp;
import org.ovis4j.train.ops.SwiGluOp;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

/**
 * Qwen3Model (the text encoder, spec 5b) under training: the forward of {@link Qwen3Model} on a batch of
 * right-padded sequences, saving what the backward reads, and the backward, which adds every parameter's
 * gradient. The parameters are float32 masters named as transformers names them without the "model."
 * prefix ({@link Qwen3Config#parameters()}: the one walk that the inference loader, synth and the written
 * checkpoint share), so the trained values are written as the {@code text_encoder/model.safetensors} the
 * pipeline reads unmodified. The LM head is the embedding itself (tie_word_embeddings), so it has no
 * parameter here: {@link org.ovis4j.train.loss.CausalLmLoss} reads and adds into {@code embed_tokens.weight}.
 *
 * <pre>
 * h = embed[ids]                                                               [N, hidden]   N = samples·length
 * per layer:  a = RMSNorm(h)·w_in
 *             q = q_norm(q_proj a) per head, k = k_norm(k_proj a), v = v_proj a  [N, Hq·D], [N, Hkv·D]
 *             q, k = rotate-half RoPE at positions 0..length−1 of each sequence
 *             h += o_proj(causal grouped-query attention(q, k, v))
 *             m = RMSNorm(h)·w_post;  h += down(up(m) ⊙ SiLU(gate(m)))
 * out = RMSNorm(h)·w_norm
 * </pre>
 *
 * Each step is the train module's kernel for it ({@link LinearOp}, {@link RmsNormOp}, {@link RopeOp} with
 * {@link RopeOp.Pairing#HALVES}, {@link AttentionOp} causal with kv heads, {@link SwiGluOp} over [up | gate]
 * rows), forward and backward side by side there. The model holds weights only; a forward's activations
 * live in the {@link Pass} it returns.
 */
public final class TrainableQwen3 {
    private final Qwen3Config cfg;
    private final Parameters params = new Parameters();
    private final Parameter embed, finalNorm;
    private final Layer[] layers;

    private record Layer(Parameter inputNorm, Parameter q, Parameter k, Parameter v, Parameter o, Parameter qNorm,
                         Parameter kNorm, Parameter postNorm, Parameter gate, Parameter up, Parameter down) {}

    /** Values for a parameter of the walk, or null for zeros (then set by {@link Qwen3Init}). */
    public interface Values {
        float[] of(ParameterSpec spec);
    }

    public TrainableQwen3(Qwen3Config cfg, Values values) {
        this.cfg = cfg;
        for (ParameterSpec s : cfg.parameters()) {
            float[] v = values.of(s);
            if (v == null) v = new float[Math.toIntExact(s.numel())];
            params.add(Parameter.trainable(s.name(), s.shape(), v));
        }
        embed = params.get("embed_tokens.weight");
        finalNorm = params.get("norm.weight");
        layers = new Layer[cfg.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "layers." + i + ".";
            layers[i] = new Layer(params.get(p + "input_layernorm.weight"), params.get(p + "self_attn.q_proj.weight"),
                    params.get(p + "self_attn.k_proj.weight"), params.get(p + "self_attn.v_proj.weight"),
                    params.get(p + "self_attn.o_proj.weight"), params.get(p + "self_attn.q_norm.weight"),
                    params.get(p + "self_attn.k_norm.weight"), params.get(p + "post_attention_layernorm.weight"),
                    params.get(p + "mlp.gate_proj.weight"), params.get(p + "mlp.up_proj.weight"), params.get(p + "mlp.down_proj.weight"));
        }
    }

    /** A new model with {@link Qwen3Init}'s values. */
    public static TrainableQwen3 initialised(Qwen3Config cfg, double std, long seed) {
        TrainableQwen3 m = new TrainableQwen3(cfg, s -> null);
        Qwen3Init.apply(m.params, std, seed);
        return m;
    }

    /**
     * The values of a Qwen3 safetensors file (any prefix {@link Qwen3Model#PREFIXES} knows; an lm_head is
     * ignored, the head being tied), widened to float32; every tensor of the walk must be there with its shape.
     */
    public static TrainableQwen3 load(Qwen3Config cfg, Path file) {
        try (TensorStore f = TensorStore.open(file.toString(), java.util.List.of(file))) {
            String prefix = Qwen3Model.detectPrefix(f);
            return new TrainableQwen3(cfg, s -> {
                String name = prefix + s.name();
                if (!f.has(name)) throw new OvisException(file + ": missing tensor " + name);
                Tensor t = f.get(name);
                if (!java.util.Arrays.equals(t.shape(), s.shape()))
                    throw new OvisException(file + ": " + name + " has shape " + java.util.Arrays.toString(t.shape()) + ", the config says "
                            + java.util.Arrays.toString(s.shape()));
                return t.toFloats();
            });
        }
    }

    public Qwen3Config config() { return cfg; }

    public Parameters parameters() { return params; }

    /** The tied embedding / LM head, [vocab, hidden]. */
    public Parameter embedding() { return embed; }

    /**
     * What one forward saved for its backward: per layer the residual stream entering it and after the
     * attention, the three norms' rstd, the normed inputs of the projections, q and k before their norms and
     * after RoPE, v, the attention output and its log-sum-exp, the MLP's [up | gate] rows and its product;
     * the final norm's input and rstd; and the result.
     */
    public static final class Pass {
        final TextBatch batch;
        final float[] cos, sin;
        final float[][] hIn, rstdIn, a, qRaw, rstdQ, kRaw, rstdK, q, k, v, att, lse, hMid, rstdPost, m, gu, act;
        final float[] hLast, rstdFinal, out;

        Pass(TextBatch batch, int layers, float[] cos, float[] sin, int rows, int hidden) {
            this.batch = batch;
            this.cos = cos;
            this.sin = sin;
            hIn = new float[layers][]; rstdIn = new float[layers][]; a = new float[layers][]; qRaw = new float[layers][];
            rstdQ = new float[layers][]; kRaw = new float[layers][]; rstdK = new float[layers][]; q = new float[layers][];
            k = new float[layers][]; v = new float[layers][]; att = new float[layers][]; lse = new float[layers][];
            hMid = new float[layers][]; rstdPost = new float[layers][]; m = new float[layers][]; gu = new float[layers][];
            act = new float[layers][];
            hLast = new float[rows * hidden];
            rstdFinal = new float[rows];
            out = new float[rows * hidden];
        }

        public TextBatch batch() { return batch; }

        /** transformers' last_hidden_state: [samples · length, hidden] (pad rows included). */
        public float[] output() { return out; }
    }

    public Pass forward(TextBatch batch) {
        int n = batch.rows(), len = batch.length(), b = batch.samples();
        int hd = cfg.hiddenSize(), qd = cfg.qDim(), kvd = cfg.kvDim(), f = cfg.intermediateSize();
        int heads = cfg.numAttentionHeads(), kvHeads = cfg.numKeyValueHeads(), d = cfg.headDim();
        float eps = (float) cfg.rmsNormEps();
        for (int i = 0; i < n; i++)
            if (batch.ids()[i] < 0 || batch.ids()[i] >= cfg.vocabSize())
                throw new OvisException("text encoder: token id " + batch.ids()[i] + " is outside the vocabulary of " + cfg.vocabSize());
        float[][] rope = Qwen3Model.rotary(cfg, len); // the inference tables, [len, D/2], repeated per sequence
        Pass p = new Pass(batch, layers.length, rope[0], rope[1], n, hd);

        float[] h = new float[n * hd], ev = embed.value();
        for (int r = 0; r < n; r++) System.arraycopy(ev, batch.ids()[r] * hd, h, r * hd, hd);
        float[] delta = new float[n * hd], normed = new float[n * qd];
        for (int li = 0; li < layers.length; li++) {
            Layer l = layers[li];
            p.hIn[li] = h;
            float[] a = p.a[li] = new float[n * hd], rstdIn = p.rstdIn[li] = new float[n];
            RmsNormOp.forward(h, 0, n, hd, l.inputNorm.value(), eps, a, 0, rstdIn, 0);
            float[] qRaw = p.qRaw[li] = new float[n * qd], kRaw = p.kRaw[li] = new float[n * kvd], v = p.v[li] = new float[n * kvd];
            LinearOp.forward(a, n, l.q.value(), null, hd, qd, qRaw);
            LinearOp.forward(a, n, l.k.value(), null, hd, kvd, kRaw);
            LinearOp.forward(a, n, l.v.value(), null, hd, kvd, v);
            float[] q = p.q[li] = new float[n * qd], k = p.k[li] = new float[n * kvd];
            p.rstdQ[li] = new float[n * heads];
            p.rstdK[li] = new float[n * kvHeads];
            RmsNormOp.forward(qRaw, 0, n * heads, d, l.qNorm.value(), eps, normed, 0, p.rstdQ[li], 0);
            RopeOp.forward(normed, n, heads, d, p.cos, p.sin, len, RopeOp.Pairing.HALVES, q);
            RmsNormOp.forward(kRaw, 0, n * kvHeads, d, l.kNorm.value(), eps, normed, 0, p.rstdK[li], 0);
            RopeOp.forward(normed, n, kvHeads, d, p.cos, p.sin, len, RopeOp.Pairing.HALVES, k);
            float[] att = p.att[li] = new float[n * qd], lse = p.lse[li] = new float[b * heads * len];
            AttentionOp.forward(q, k, v, b, len, heads, kvHeads, d, true, att, lse);
            LinearOp.forward(att, n, l.o.value(), null, qd, hd, delta);
            float[] hMid = p.hMid[li] = sum(h, delta);

            float[] m = p.m[li] = new float[n * hd], rstdPost = p.rstdPost[li] = new float[n];
            RmsNormOp.forward(hMid, 0, n, hd, l.postNorm.value(), eps, m, 0, rstdPost, 0);
            float[] gu = p.gu[li] = new float[n * 2 * f], act = p.act[li] = new float[n * f];
            // [up | gate] rows, the layout SwiGluOp reads: act = up ⊙ SiLU(gate), Qwen3MLP's product
            LinearOp.forward(m, 0, hd, n, l.up.value(), null, hd, f, gu, 0, 2 * f);
            LinearOp.forward(m, 0, hd, n, l.gate.value(), null, hd, f, gu, f, 2 * f);
            SwiGluOp.forward(gu, 0, 2 * f, n, f, act, 0, f);
            LinearOp.forward(act, n, l.down.value(), null, f, hd, delta);
            h = sum(hMid, delta);
        }
        System.arraycopy(h, 0, p.hLast, 0, h.length);
        RmsNormOp.forward(p.hLast, 0, n, hd, finalNorm.value(), eps, p.out, 0, p.rstdFinal, 0);
        return p;
    }

    /** Adds the gradients of a loss L into every parameter, given dL/d{@link Pass#output()} (read, not kept). */
    public void backward(Pass p, float[] dOut) {
        TextBatch batch = p.batch;
        int n = batch.rows(), len = batch.length(), b = batch.samples();
        int hd = cfg.hiddenSize(), qd = cfg.qDim(), kvd = cfg.kvDim(), f = cfg.intermediateSize();
        int heads = cfg.numAttentionHeads(), kvHeads = cfg.numKeyValueHeads(), d = cfg.headDim();
        if (dOut.length != n * hd) throw new IllegalArgumentException("text encoder backward: " + dOut.length + " gradients for " + n + " x " + hd);
        float[] dh = new float[n * hd];
        RmsNormOp.backward(p.hLast, 0, n, hd, finalNorm.value(), p.rstdFinal, 0, dOut, 0, dh, 0, finalNorm.grad());
        float[] dAct = new float[n * f], dGu = new float[n * 2 * f], dM = new float[n * hd], dAtt = new float[n * qd];
        float[] dq = new float[n * qd], dk = new float[n * kvd], dv = new float[n * kvd];
        for (int li = layers.length - 1; li >= 0; li--) {
            Layer l = layers[li];
            // MLP: h_out = h_mid + down(act)
            LinearOp.backward(p.act[li], n, l.down.value(), f, hd, dh, dAct, false, l.down.grad(), null);
            SwiGluOp.backward(p.gu[li], 0, 2 * f, n, f, dAct, 0, f, dGu, 0, 2 * f);
            LinearOp.backward(p.m[li], 0, hd, n, l.up.value(), hd, f, dGu, 0, 2 * f, dM, 0, hd, false, l.up.grad(), null);
            LinearOp.backward(p.m[li], 0, hd, n, l.gate.value(), hd, f, dGu, f, 2 * f, dM, 0, hd, true, l.gate.grad(), null);
            RmsNormOp.backward(p.hMid[li], 0, n, hd, l.postNorm.value(), p.rstdPost[li], 0, dM, 0, dM, 0, l.postNorm.grad());
            addInto(dh, dM);
            // attention: h_mid = h_in + o_proj(att)
            LinearOp.backward(p.att[li], n, l.o.value(), qd, hd, dh, dAtt, false, l.o.grad(), null);
            AttentionOp.backward(p.q[li], p.k[li], p.v[li], p.att[li], p.lse[li], dAtt, b, len, heads, kvHeads, d, true, dq, dk, dv);
            RopeOp.backward(dq, n, heads, d, p.cos, p.sin, len, RopeOp.Pairing.HALVES, dq);
            RopeOp.backward(dk, n, kvHeads, d, p.cos, p.sin, len, RopeOp.Pairing.HALVES, dk);
            RmsNormOp.backward(p.qRaw[li], 0, n * heads, d, l.qNorm.value(), p.rstdQ[li], 0, dq, 0, dq, 0, l.qNorm.grad());
            RmsNormOp.backward(p.kRaw[li], 0, n * kvHeads, d, l.kNorm.value(), p.rstdK[li], 0, dk, 0, dk, 0, l.kNorm.grad());
            float[] a = p.a[li];
            LinearOp.backward(a, n, l.q.value(), hd, qd, dq, dM, false, l.q.grad(), null);
            LinearOp.backward(a, n, l.k.value(), hd, kvd, dk, dM, true, l.k.grad(), null);
            LinearOp.backward(a, n, l.v.value(), hd, kvd, dv, dM, true, l.v.grad(), null);
            RmsNormOp.backward(p.hIn[li], 0, n, hd, l.inputNorm.value(), p.rstdIn[li], 0, dM, 0, dM, 0, l.inputNorm.grad());
            addInto(dh, dM);
        }
        // embedding rows: the gradient of a looked-up row is the sum over its occurrences, rows in order
        float[] ge = embed.grad();
        int[] ids = batch.ids();
        for (int r = 0; r < n; r++) {
            int o = ids[r] * hd, s = r * hd;
            for (int i = 0; i < hd; i++) ge[o + i] += dh[s + i];
        }
    }

    private static float[] sum(float[] x, float[] y) {
        float[] z = new float[x.length];
        for (int i = 0; i < z.length; i++) z[i] = x[i] + y[i];
        return z;
    }

    private static void addInto(float[] acc, float[] x) {
        for (int i = 0; i < acc.length; i++) acc[i] += x[i];
    }
}
