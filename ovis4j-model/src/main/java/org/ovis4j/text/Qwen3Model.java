package org.ovis4j.text;

import org.ovis4j.checkpoint.Projections;
import org.ovis4j.checkpoint.StoreWeights;
import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.AttentionKernel;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.kernel.DenseProjection.Storage;
import org.ovis4j.core.kernel.Norms;
import org.ovis4j.core.kernel.Projection;
import org.ovis4j.core.kernel.Rope;
import org.ovis4j.core.kernel.Widen;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * Qwen3Model as in transformers (spec 5b): token embeddings, decoder layers, final RMSNorm; no LM
 * head. One sequence at a time, right-padded: rows [0, validTokens) are real tokens, the rest pads.
 *
 * <pre>
 * h = embed[ids]                                                      [L, hidden]
 * per layer:  a = RMSNorm(h)
 *             q = q_norm(q_proj a) per head, k = k_norm(k_proj a), v   [L, Hq·D], [L, Hkv·D]
 *             q, k = rotate-half RoPE at positions 0..L−1
 *             h += o_proj(softmax(q·kᵀ/√D, causal, keys in [0, validTokens))·v)   (query head h reads kv head h/(Hq/Hkv))
 *             h += down(SiLU(gate(RMSNorm(h))) ⊙ up(RMSNorm(h)))
 * out = RMSNorm(h)
 * </pre>
 *
 * All activations are float32; weights are used in place in their stored dtype (widened while
 * multiplying), so a float32 checkpoint reproduces transformers' float32 forward. Attention runs on
 * the compute context's kernel. Nothing is kept between calls: each forward allocates its own
 * activations (one prompt is a few hundred rows).
 */
public final class Qwen3Model {
    /** Where the LLM's tensors may sit: diffusers text_encoder/, Qwen3ForCausalLM files, an Ovis2.5 folder. */
    public static final String[] PREFIXES = {"", "model.", "llm.model."};

    private final Qwen3Config cfg;
    private final AttentionKernel attention;
    private final Tensor embed;
    private final Layer[] layers;
    private final float[] finalNorm;

    private record Layer(float[] inputNorm, Projection q, Projection k, Projection v, Projection o, float[] qNorm, float[] kNorm,
                         float[] postNorm, Projection gate, Projection up, Projection down) {}

    /** Receives intermediate activations (for tests): name as in the golden vectors, [rows, width]. */
    interface Tap {
        void accept(String name, float[] values, int rows, int width);
    }

    /** On the portable Java float32 kernels ({@link ComputeContext#JAVA}). */
    public Qwen3Model(Qwen3Config cfg, Weights w) {
        this(cfg, w, ComputeContext.JAVA);
    }

    public Qwen3Model(Qwen3Config cfg, Weights w, ComputeContext context) {
        this.cfg = cfg;
        this.attention = context.attention();
        int h = cfg.hiddenSize(), d = cfg.headDim();
        // In place: the encoder runs once per prompt on at most a few hundred rows, so a packed copy
        // (3.4 GB for Ovis2.5-2B) would buy little time for much memory next to the transformer.
        Projections m = new Projections("text encoder", w, context, cfg.parameters(), module -> Storage.IN_PLACE);
        embed = w.get("embed_tokens.weight").expectShape(cfg.vocabSize(), h);
        layers = new Layer[cfg.numHiddenLayers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "layers." + i + ".";
            layers[i] = new Layer(
                    w.get(p + "input_layernorm.weight").expectShape(h).toFloats(),
                    m.of(p + "self_attn.q_proj"),
                    m.of(p + "self_attn.k_proj"),
                    m.of(p + "self_attn.v_proj"),
                    m.of(p + "self_attn.o_proj"),
                    w.get(p + "self_attn.q_norm.weight").expectShape(d).toFloats(),
                    w.get(p + "self_attn.k_norm.weight").expectShape(d).toFloats(),
                    w.get(p + "post_attention_layernorm.weight").expectShape(h).toFloats(),
                    m.of(p + "mlp.gate_proj"),
                    m.of(p + "mlp.up_proj"),
                    m.of(p + "mlp.down_proj"));
        }
        finalNorm = w.get("norm.weight").expectShape(h).toFloats();
    }

    /**
     * The key prefix of the LLM's tensors in {@code store}: "" (diffusers text_encoder/), "model."
     * (Qwen3ForCausalLM; lm_head.weight is ignored) or "llm.model." (Ovis2.5 folder).
     */
    public static String detectPrefix(TensorStore store) {
        for (String p : PREFIXES) if (store.has(p + "embed_tokens.weight")) return p;
        throw new OvisException(store.origin() + ": no Qwen3 weights (expected embed_tokens.weight, "
                + "model.embed_tokens.weight or llm.model.embed_tokens.weight)");
    }

    /**
     * The model over a store with any of the {@link #PREFIXES}. {@code computeType} null uses the
     * matrices as stored; otherwise they are converted once (e.g. f32 checkpoint run in bf16).
     */
    public static Qwen3Model load(TensorStore store, Qwen3Config cfg, DType computeType) {
        return load(store, cfg, computeType, ComputeContext.JAVA);
    }

    /** As {@link #load(TensorStore, Qwen3Config, DType)} with attention on the context's kernel. */
    public static Qwen3Model load(TensorStore store, Qwen3Config cfg, DType computeType, ComputeContext context) {
        return new Qwen3Model(cfg, new StoreWeights(store, detectPrefix(store), null, computeType), context);
    }

    public Qwen3Config config() {
        return cfg;
    }

    /**
     * transformers' {@code last_hidden_state} [length, hidden] for one right-padded sequence: causal
     * attention plus key padding (positions ≥ validTokens are pads), position ids 0..length−1. Every
     * row is computed as transformers does, pad rows included (a pad query attends to all real keys).
     */
    public float[] forward(int[] ids, int length, int validTokens) {
        checkIds(ids, length);
        if (validTokens < 1 || validTokens > length)
            throw new OvisException("text encoder: " + validTokens + " real tokens of " + length + " (need 1.." + length + ")");
        return run(ids, length, validTokens, null);
    }

    /**
     * The first {@code rows} rows of {@link #forward}'s result, computing only those: [rows, hidden].
     * Attention is causal, so row i depends on tokens 0..i alone; when {@code rows ≤ validTokens}
     * (no pad among them) this equals forward(ids, length, validTokens) on those rows exactly, whatever
     * follows. Callers that mask pad rows away (the Ovis text encoder) save the pad rows' work this way.
     */
    public float[] forwardPrefix(int[] ids, int rows) {
        checkIds(ids, rows);
        if (rows < 1) throw new OvisException("text encoder: no tokens");
        return run(ids, rows, rows, null);
    }

    private void checkIds(int[] ids, int length) {
        if (length < 0 || ids.length < length)
            throw new OvisException("text encoder: " + ids.length + " ids for a sequence of " + length);
        for (int i = 0; i < length; i++)
            if (ids[i] < 0 || ids[i] >= cfg.vocabSize())
                throw new OvisException("text encoder: token id " + ids[i] + " at position " + i
                        + " is outside the vocabulary of " + cfg.vocabSize());
    }

    /** Computes rows [0, rows) with keys limited to [0, validKeys); the tap sees the residual stream. */
    float[] run(int[] ids, int rows, int validKeys, Tap tap) {
        int hd = cfg.hiddenSize(), qd = cfg.qDim(), kvd = cfg.kvDim(), f = cfg.intermediateSize();
        int heads = cfg.numAttentionHeads(), kvHeads = cfg.numKeyValueHeads(), d = cfg.headDim();
        float eps = (float) cfg.rmsNormEps();
        float scale = (float) (1.0 / Math.sqrt(d));

        float[] h = new float[rows * hd];
        Parallel.forEach(rows, r -> Widen.read(embed, (long) ids[r] * hd, h, r * hd, hd));
        if (tap != null) tap.accept("embed_tokens", h, rows, hd);

        float[][] rope = rotary(cfg, rows);
        float[] a = new float[rows * hd], delta = new float[rows * hd];
        float[] q = new float[rows * qd], k = new float[rows * kvd], v = new float[rows * kvd], att = new float[rows * qd];
        float[] gate = new float[rows * f], up = new float[rows * f];
        for (int li = 0; li < layers.length; li++) {
            Layer l = layers[li];
            Norms.rmsNorm(h, rows, hd, l.inputNorm, eps, a);
            l.q.forward(a, rows, q);
            l.k.forward(a, rows, k);
            l.v.forward(a, rows, v);
            Norms.rmsNorm(q, rows * heads, d, l.qNorm, eps, q);
            Norms.rmsNorm(k, rows * kvHeads, d, l.kNorm, eps, k);
            Rope.applyRotateHalf(q, rows, heads, d, rope[0], rope[1]);
            Rope.applyRotateHalf(k, rows, kvHeads, d, rope[0], rope[1]);
            attention.attend(q, qd, k, kvd, v, kvd, att, qd, rows, rows, heads, kvHeads, d, scale, true, validKeys);
            l.o.forward(att, rows, delta);
            add(h, delta);

            Norms.rmsNorm(h, rows, hd, l.postNorm, eps, a);
            l.gate.forward(a, rows, gate);
            l.up.forward(a, rows, up);
            Activations.siluMul(gate, up, gate.length, gate);
            l.down.forward(gate, rows, delta);
            add(h, delta);
            if (tap != null) tap.accept("layers." + li, h, rows, hd);
        }
        Norms.rmsNorm(h, rows, hd, finalNorm, eps, h);
        if (tap != null) tap.accept("norm", h, rows, hd);
        return h;
    }

    /**
     * RoPE tables for positions 0..rows−1 as transformers computes them in float32: inv_freq_j =
     * 1 / theta^(2j/D) (exponent, power and reciprocal each rounded to float32), angle = pos·inv_freq_j
     * rounded to float32, then cos/sin. Returns {cos, sin}, each [rows, D/2] (transformers repeats the
     * D/2 values twice along the head dimension; {@link Rope#applyRotateHalf} reads each once).
     */
    public static float[][] rotary(Qwen3Config cfg, int rows) {
        int half = cfg.headDim() / 2;
        float[] invFreq = new float[half];
        float theta = (float) cfg.ropeTheta();
        for (int j = 0; j < half; j++) {
            float exponent = (float) (2 * j) / (float) cfg.headDim();
            invFreq[j] = 1f / (float) Math.pow(theta, exponent);
        }
        float[] cos = new float[rows * half], sin = new float[rows * half];
        for (int p = 0; p < rows; p++)
            for (int j = 0; j < half; j++) {
                float angle = (float) p * invFreq[j];
                cos[p * half + j] = (float) Math.cos(angle);
                sin[p * half + j] = (float) Math.sin(angle);
            }
        return new float[][] {cos, sin};
    }

    private static void add(float[] h, float[] delta) {
        int n = h.length, chunk = 1 << 14;
        Parallel.forEach((n + chunk - 1) / chunk, t -> {
            for (int i = t * chunk, e = Math.min(n, i + chunk); i < e; i++) h[i] += delta[i];
        });
    }
}
