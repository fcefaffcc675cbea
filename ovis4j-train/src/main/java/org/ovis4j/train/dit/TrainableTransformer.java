package org.ovis4j.train.dit;

import java.nio.file.Path;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.checkpoint.OriginalTransformerNames;
import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.PositionEmbedding;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.train.ops.RmsNormOp;
import org.ovis4j.train.ops.SiluOp;
import org.ovis4j.train.ops.TimestepEmbeddingOp;
import org.ovis4j.train.optim.ComputeWeights;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

/**
 * The Ovis-Image MMDiT (spec section 3) under training: float32 master parameters under their diffusers
 * names, a forward over a batch with one σ per sample that saves what the backward needs into a
 * caller-owned {@link TransformerPass}, and a backward that adds into the parameters' gradients and
 * returns the gradients of the inputs. The model holds nothing that changes during a pass.
 *
 * <p>Frozen linear weights (the base under LoRA) are not copied: they stay the checkpoint's tensors,
 * used in place in their stored dtype ({@link Parameter#stored}), so a bf16 7B base costs its 14.7 GB of
 * mapped file rather than 29.5 GB of float32. A model built that way by {@link #load} keeps the
 * checkpoint mapped until {@link #close()}.
 *
 * <p>The linear products compute in the precision of the model's {@link ComputeWeights}, fixed when it
 * is built: float32 (the default, every golden's path), or bf16 operands with float32 sums over bf16
 * copies of the weights, which the caller refreshes after every optimizer step
 * ({@link #computeWeights()}{@code .refresh()}).
 */
public final class TrainableTransformer implements AutoCloseable {
    /**
     * Where parameter values come from when the model is built: a checkpoint, or an initialiser (training
     * from scratch). Returns float32 values for a diffusers name and its shape; the model owns them.
     */
    @FunctionalInterface
    public interface Source {
        float[] values(String name, long[] shape);

        /**
         * The stored tensor behind {@code name}, for a frozen linear weight used in place (no float32
         * copy); null when the values exist only as floats (an initialiser).
         */
        default Tensor stored(String name, long[] shape) {
            return null;
        }

        /** Checkpoint weights under diffusers names (any layout): float32 copies, or the stored tensors in place. */
        static Source of(Weights w) {
            return new Source() {
                @Override
                public float[] values(String name, long[] shape) {
                    return w.get(name).expectShape(shape).toFloats();
                }

                @Override
                public Tensor stored(String name, long[] shape) {
                    return w.get(name).expectShape(shape);
                }
            };
        }

        /** Checkpoint weights as float32 copies only, frozen ones included. */
        static Source copies(Weights w) {
            return (name, shape) -> w.get(name).expectShape(shape).toFloats();
        }

        /** Zeros of every shape: a model whose values are set afterwards through its parameter walk. */
        Source ZEROS = (name, shape) -> new float[Math.toIntExact(org.ovis4j.core.tensor.Tensor.numel(shape))];
    }

    private final TransformerConfig cfg;
    private final Parameters params = new Parameters();
    private final boolean trainBase;
    private final Adapters adapters;
    private final ComputeWeights compute;
    private final Projection xEmbedder, time1, time2, contextEmbedder, normOut, projOut;
    private final Parameter contextNorm;
    private final DoubleBlock[] doubles;
    private final SingleBlock[] singles;
    /** The mapped checkpoint that stored (frozen, in-place) weights read, when this model owns it. */
    private TensorStore mapped;

    /**
     * The model from weights under diffusers names. Trained parameters are copied into float32 masters;
     * frozen linear weights are used in place, so {@code w}'s tensors must stay readable for as long as
     * the model is used when {@code trainBase} is false (norms and biases are always copied: they are small).
     *
     * @param trainBase whether the checkpoint's parameters are trained (false: frozen, e.g. under LoRA)
     * @param adapters  what each linear module becomes ({@link Adapters#NONE}: itself)
     */
    public TrainableTransformer(TransformerConfig cfg, Weights w, boolean trainBase, Adapters adapters) {
        this(cfg, Source.of(w), trainBase, adapters);
    }

    /** The model with values from {@code w} (a checkpoint's, or an initialiser's). */
    public TrainableTransformer(TransformerConfig cfg, Source w, boolean trainBase, Adapters adapters) {
        this(cfg, w, trainBase, adapters, ComputeWeights.FP32);
    }

    /** As above, the linear products computing in {@code compute}'s precision (its weights registered there). */
    public TrainableTransformer(TransformerConfig cfg, Source w, boolean trainBase, Adapters adapters, ComputeWeights compute) {
        this.cfg = cfg;
        this.trainBase = trainBase;
        this.adapters = adapters;
        this.compute = compute;
        int d = cfg.innerDim(), f = cfg.mlpHidden(), hd = cfg.attentionHeadDim();
        xEmbedder = linear(w, "x_embedder", cfg.inChannels(), d);
        time1 = linear(w, "timestep_embedder.linear_1", TransformerConfig.TIME_EMBED_DIM, d);
        time2 = linear(w, "timestep_embedder.linear_2", d, d);
        contextNorm = param(w, "context_embedder_norm.weight", cfg.jointAttentionDim());
        contextEmbedder = linear(w, "context_embedder", cfg.jointAttentionDim(), d);
        doubles = new DoubleBlock[cfg.numLayers()];
        for (int i = 0; i < doubles.length; i++) {
            String p = "transformer_blocks." + i + ".";
            Projection imgMod = linear(w, p + "norm1.linear", d, BlockStream.CHUNKS * d);
            Projection txtMod = linear(w, p + "norm1_context.linear", d, BlockStream.CHUNKS * d);
            Qkv imgQkv = qkv(w, p + "attn.", "to_q", "to_k", "to_v", "norm_q", "norm_k", hd);
            Qkv txtQkv = qkv(w, p + "attn.", "add_q_proj", "add_k_proj", "add_v_proj", "norm_added_q", "norm_added_k", hd);
            Projection imgOut = linear(w, p + "attn.to_out.0", d, d), txtOut = linear(w, p + "attn.to_add_out", d, d);
            Projection imgIn = linear(w, p + "ff.net.0.proj", d, 2 * f), imgDown = linear(w, p + "ff.net.2", f, d);
            Projection txtIn = linear(w, p + "ff_context.net.0.proj", d, 2 * f), txtDown = linear(w, p + "ff_context.net.2", f, d);
            doubles[i] = new DoubleBlock(new BlockStream(txtMod, txtQkv, txtOut, txtIn, txtDown),
                    new BlockStream(imgMod, imgQkv, imgOut, imgIn, imgDown));
        }
        singles = new SingleBlock[cfg.numSingleLayers()];
        for (int i = 0; i < singles.length; i++) {
            String p = "single_transformer_blocks." + i + ".";
            Projection mod = linear(w, p + "norm.linear", d, SingleBlock.CHUNKS * d);
            Qkv qkv = qkv(w, p + "attn.", "to_q", "to_k", "to_v", "norm_q", "norm_k", hd);
            Projection mlp = linear(w, p + "proj_mlp", d, 2 * f), out = linear(w, p + "proj_out", d + f, d);
            singles[i] = new SingleBlock(mod, qkv, mlp, out);
        }
        normOut = linear(w, "norm_out.linear", d, 2 * d);
        projOut = linear(w, "proj_out", d, cfg.outChannels());
        adapters.finish();
    }

    /**
     * A view of {@code of} with {@code view} applied to every linear module; the view's parameters are
     * {@code of}'s, in the same order, less those the mapped modules no longer hold.
     */
    private TrainableTransformer(TrainableTransformer of, UnaryOperator<Projection> view) {
        Set<Parameter> dropped = Collections.newSetFromMap(new IdentityHashMap<>());
        UnaryOperator<Projection> f = p -> {
            Projection q = view.apply(p);
            dropped.addAll(p.parameters());
            q.parameters().forEach(dropped::remove);
            return q;
        };
        cfg = of.cfg;
        trainBase = of.trainBase;
        adapters = Adapters.NONE;
        compute = of.compute;
        xEmbedder = f.apply(of.xEmbedder);
        time1 = f.apply(of.time1);
        time2 = f.apply(of.time2);
        contextNorm = of.contextNorm;
        contextEmbedder = f.apply(of.contextEmbedder);
        doubles = new DoubleBlock[of.doubles.length];
        for (int i = 0; i < doubles.length; i++) doubles[i] = of.doubles[i].map(f);
        singles = new SingleBlock[of.singles.length];
        for (int i = 0; i < singles.length; i++) singles[i] = of.singles[i].map(f);
        normOut = f.apply(of.normOut);
        projOut = f.apply(of.projOut);
        for (Parameter p : of.params) if (!dropped.contains(p)) params.add(p);
    }

    /**
     * This model with every adapter switched off, as peft's {@code disable_adapter()} runs it: the
     * reference policy of Flow-GRPO's KL term. A view, not a copy: it shares this model's base
     * parameters (frozen under LoRA; were they trainable, its backward would add into the same
     * gradients) and holds no adapter parameters. Like the model, it keeps no pass state, so the two
     * run side by side. Without adapters it computes what this model computes.
     */
    public TrainableTransformer withoutAdapters() {
        return new TrainableTransformer(this, Projection::unadapted);
    }

    /** A checkpoint folder in either published layout, every parameter trained (full fine-tuning). */
    public static TrainableTransformer load(Path checkpoint) {
        return load(checkpoint, true, Adapters.NONE);
    }

    /** A checkpoint folder in either published layout (its transformer only); frozen linear weights in place. */
    public static TrainableTransformer load(Path checkpoint, boolean trainBase, Adapters adapters) {
        return load(checkpoint, trainBase, adapters, true);
    }

    /**
     * As above; {@code frozenInPlace} false gives frozen weights float32 copies too, for a frozen model
     * whose values the caller changes once (a DPO reference moved away from the policy).
     */
    public static TrainableTransformer load(Path checkpoint, boolean trainBase, Adapters adapters, boolean frozenInPlace) {
        return load(checkpoint, trainBase, adapters, frozenInPlace, ComputeWeights.FP32);
    }

    /** As above, the linear products computing in {@code compute}'s precision. */
    public static TrainableTransformer load(Path checkpoint, boolean trainBase, Adapters adapters, boolean frozenInPlace,
                                            ComputeWeights compute) {
        CheckpointFolder folder = CheckpointFolder.detect(checkpoint);
        TransformerConfig cfg = TransformerConfig.read(folder);
        TensorStore store = TensorStore.open("transformer", folder.transformerFiles());
        try {
            Weights w = OriginalTransformerNames.weights(store, cfg, null);
            boolean inPlace = frozenInPlace && !trainBase;
            TrainableTransformer model = new TrainableTransformer(cfg, inPlace ? Source.of(w) : Source.copies(w), trainBase, adapters, compute);
            // Trained masters are copies: the mapped files are closed once read. Frozen weights are read in place.
            if (!inPlace) store.close();
            else model.mapped = store;
            return model;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Unmaps the checkpoint when this model reads frozen weights from it in place (else nothing to do). */
    @Override
    public void close() {
        if (mapped != null) {
            mapped.close();
            mapped = null;
        }
    }

    public TransformerConfig config() {
        return cfg;
    }

    /**
     * What the linear products read: {@link ComputeWeights#FP32} (the masters), or the bf16 copies, which
     * must be refreshed after every optimizer step and after the masters are set otherwise.
     */
    public ComputeWeights computeWeights() {
        return compute;
    }

    /** Every parameter (diffusers names; adapters' after their module's), in declaration order. */
    public Parameters parameters() {
        return params;
    }

    private Parameter param(Source w, String name, long... shape) {
        return params.add(parameter(w, name, shape));
    }

    private Parameter parameter(Source w, String name, long... shape) {
        float[] v = w.values(name, shape);
        return trainBase ? Parameter.trainable(name, shape, v) : Parameter.frozen(name, shape, v);
    }

    private Projection linear(Source w, String module, int in, int out) {
        // A frozen weight stays the checkpoint's tensor where there is one (see the class comment).
        Tensor stored = trainBase ? null : w.stored(module + ".weight", new long[] {out, in});
        Parameter weight = stored != null ? Parameter.stored(module + ".weight", stored) : parameter(w, module + ".weight", out, in);
        Parameter bias = parameter(w, module + ".bias", out);
        Projection p = adapters.adapt(new DenseProjection(module, weight, bias, compute));
        if (p.in() != in || p.out() != out)
            throw new OvisException(module + ": the adapter maps " + p.in() + " to " + p.out() + ", expected " + in + " to " + out);
        for (Parameter q : p.parameters()) params.add(q);
        return p;
    }

    private Qkv qkv(Source w, String prefix, String q, String k, String v, String nq, String nk, int headDim) {
        int d = cfg.innerDim();
        Projection pq = linear(w, prefix + q, d, d), pk = linear(w, prefix + k, d, d), pv = linear(w, prefix + v, d, d);
        return new Qkv(pq, pk, pv, param(w, prefix + nq + ".weight", headDim), param(w, prefix + nk + ".weight", headDim));
    }

    /**
     * The forward pass of a batch; {@code recompute} keeps only each block's input and recomputes the
     * block in the backward (gradient checkpointing: the same gradients, bit for bit).
     */
    public TransformerPass forward(TransformerBatch batch, boolean recompute) {
        batch.check(cfg.inChannels(), cfg.jointAttentionDim());
        Dims d = Dims.of(cfg, batch);
        int b = d.samples(), t = d.txt(), n = d.img(), w = d.dim(), c = cfg.jointAttentionDim();
        PositionEmbedding pe = PositionEmbedding.of(batch.ids(), d.len(), cfg.axesDimsRope(), TransformerConfig.ROPE_THETA);
        TransformerPass p = new TransformerPass(batch, d, recompute, pe, doubles.length, singles.length);

        p.sinusoid = new float[b * TimestepEmbeddingOp.WIDTH];
        TimestepEmbeddingOp.forward(batch.sigmas(), b, p.sinusoid);
        p.t1 = new float[b * w];
        time1.forward(p.sinusoid, b, p.t1);
        p.a1 = new float[b * w];
        SiluOp.forward(p.t1, 0, b * w, p.a1, 0);
        p.vec = new float[b * w];
        time2.forward(p.a1, b, p.vec);
        p.siluVec = new float[b * w];
        SiluOp.forward(p.vec, 0, b * w, p.siluVec, 0);

        p.textRstd = new float[b * t];
        p.textNormed = new float[b * t * c];
        RmsNormOp.forward(batch.text(), 0, b * t, c, contextNorm.value(), TransformerConfig.EPS, p.textNormed, 0, p.textRstd, 0);
        float[] txt = new float[b * t * w], img = new float[b * n * w];
        contextEmbedder.forward(p.textNormed, b * t, txt);
        xEmbedder.forward(batch.latents(), b * n, img);

        for (int i = 0; i < doubles.length; i++) {
            p.doubleIn[i] = new float[][] {txt, img};
            DoubleBlock.Saved s = doubles[i].forward(d, txt, img, p.siluVec, pe);
            if (!recompute) p.doubleSaved[i] = s;
            txt = s.txt.output;
            img = s.img.output;
        }
        float[] joint = new float[d.rows() * w];
        d.scatter(txt, t, 0, joint);
        d.scatter(img, n, t, joint);
        for (int i = 0; i < singles.length; i++) {
            p.singleIn[i] = joint;
            SingleBlock.Saved s = singles[i].forward(d, joint, p.siluVec, pe);
            if (!recompute) p.singleSaved[i] = s;
            joint = s.output;
        }

        // Output layer: the text rows are dropped; norm_out's two chunks are (scale, shift).
        p.imgFinal = d.gather(joint, n, t);
        p.outMod = new float[b * 2 * w];
        normOut.forward(p.siluVec, b, p.outMod);
        p.outNormed = new float[b * n * w];
        p.outMean = new float[b * n];
        p.outRstd = new float[b * n];
        Modulated.layerNorm(d, p.imgFinal, n, p.outMod, 2, 1, 0, p.outNormed, p.outMean, p.outRstd);
        p.prediction = new float[b * n * cfg.outChannels()];
        projOut.forward(p.outNormed, b * n, p.prediction);
        return p;
    }

    /**
     * Backpropagates d loss / d prediction through the pass: adds every trainable parameter's gradient
     * into {@link Parameter#grad()} and returns the gradients of the latents and of the text states.
     */
    public InputGradients backward(TransformerPass p, float[] dPrediction) {
        Dims d = p.dims;
        int b = d.samples(), t = d.txt(), n = d.img(), w = d.dim(), c = cfg.jointAttentionDim();
        if (dPrediction.length != p.prediction.length)
            throw new OvisException("transformer backward: " + dPrediction.length + " gradient values for a prediction of "
                    + p.prediction.length);
        float[] dOutNormed = new float[b * n * w];
        projOut.backward(p.outNormed, b * n, dPrediction, dOutNormed, false);
        float[] dImg = new float[b * n * w], dOutMod = new float[b * 2 * w], dSiluVec = new float[b * w];
        Modulated.layerNormBackward(d, p.imgFinal, n, p.outMod, 2, 1, 0, p.outMean, p.outRstd, dOutNormed, dImg, dOutMod);
        normOut.backward(p.siluVec, b, dOutMod, dSiluVec, false);

        float[] dJoint = new float[d.rows() * w];
        d.scatter(dImg, n, t, dJoint);
        for (int i = singles.length - 1; i >= 0; i--) {
            SingleBlock.Saved s = p.recompute ? singles[i].forward(d, p.singleIn[i], p.siluVec, p.pe) : p.singleSaved[i];
            singles[i].backward(d, s, dJoint, p.siluVec, dSiluVec, p.pe);
        }
        float[] dTxt = d.gather(dJoint, t, 0);
        dImg = d.gather(dJoint, n, t);
        for (int i = doubles.length - 1; i >= 0; i--) {
            DoubleBlock.Saved s = p.recompute ? doubles[i].forward(d, p.doubleIn[i][0], p.doubleIn[i][1], p.siluVec, p.pe)
                    : p.doubleSaved[i];
            doubles[i].backward(d, s, dTxt, dImg, p.siluVec, dSiluVec, p.pe);
        }

        float[] dLatents = new float[b * n * cfg.inChannels()];
        xEmbedder.backward(p.batch.latents(), b * n, dImg, dLatents, false);
        float[] dTextNormed = new float[b * t * c], dText = new float[b * t * c];
        contextEmbedder.backward(p.textNormed, b * t, dTxt, dTextNormed, false);
        RmsNormOp.backward(p.batch.text(), 0, b * t, c, contextNorm.value(), p.textRstd, 0, dTextNormed, 0, dText, 0,
                contextNorm.grad());

        // σ is data: the gradient stops at linear_1's parameters.
        float[] dVec = new float[b * w], dA1 = new float[b * w];
        SiluOp.backward(p.vec, 0, b * w, dSiluVec, 0, dVec, 0);
        time2.backward(p.a1, b, dVec, dA1, false);
        SiluOp.backward(p.t1, 0, b * w, dA1, 0, dA1, 0);
        time1.backward(p.sinusoid, b, dA1, null, false);
        return new InputGradients(dLatents, dText);
    }
}
