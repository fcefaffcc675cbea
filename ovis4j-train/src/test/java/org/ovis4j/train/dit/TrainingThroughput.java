package org.ovis4j.train.dit;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.PositionEmbedding;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.train.loss.FlowMatching;

/**
 * Measures one forward + backward of the flow-matching loss (not a unit test: no timing thresholds):
 * the tiny golden transformer, and a mid-size configuration with random weights. Run with
 * {@code -Dovis4j.threads=N}; prints the median of the timed steps.
 *
 * <p>Arguments: [tiny checkpoint folder] [mid-size steps, 0 to skip] [any third argument: the mid-size model
 * also with gradient checkpointing]. The tiny model's steps take well under a millisecond once compiled:
 * it is warmed up for 300 steps and timed over 500.
 */
public final class TrainingThroughput {
    private TrainingThroughput() {}

    /** Random weights under diffusers names, drawn like the goldens' (matrices N(0, 1/fan_in), norms 1 ± 0.1, biases 0.1). */
    static Weights random(TransformerConfig cfg, long seed) {
        Map<String, Tensor> m = new HashMap<>();
        Arena arena = Arena.ofAuto();
        int d = cfg.innerDim(), f = cfg.mlpHidden(), hd = cfg.attentionHeadDim();
        Random r = new Random(seed);
        java.util.function.BiConsumer<String, long[]> add = (name, shape) -> {
            float[] v = new float[Math.toIntExact(Tensor.numel(shape))];
            boolean norm = name.contains("norm") && shape.length == 1 && !name.contains("linear");
            double std = shape.length == 2 ? 1 / Math.sqrt(shape[1]) : 0.1;
            for (int i = 0; i < v.length; i++) v[i] = (float) ((norm ? 1 : 0) + std * r.nextGaussian());
            m.put(name, Tensor.ofFloats(name, shape, v, arena));
        };
        java.util.function.BiConsumer<String, long[]> lin = (name, shape) -> {
            add.accept(name + ".weight", shape);
            add.accept(name + ".bias", new long[] {shape[0]});
        };
        lin.accept("x_embedder", new long[] {d, cfg.inChannels()});
        lin.accept("timestep_embedder.linear_1", new long[] {d, TransformerConfig.TIME_EMBED_DIM});
        lin.accept("timestep_embedder.linear_2", new long[] {d, d});
        add.accept("context_embedder_norm.weight", new long[] {cfg.jointAttentionDim()});
        lin.accept("context_embedder", new long[] {d, cfg.jointAttentionDim()});
        for (int i = 0; i < cfg.numLayers(); i++) {
            String p = "transformer_blocks." + i + ".";
            lin.accept(p + "norm1.linear", new long[] {6L * d, d});
            lin.accept(p + "norm1_context.linear", new long[] {6L * d, d});
            for (String s : new String[] {"to_q", "to_k", "to_v", "add_q_proj", "add_k_proj", "add_v_proj", "to_out.0", "to_add_out"})
                lin.accept(p + "attn." + s, new long[] {d, d});
            for (String s : new String[] {"norm_q", "norm_k", "norm_added_q", "norm_added_k"}) add.accept(p + "attn." + s + ".weight", new long[] {hd});
            for (String s : new String[] {"ff", "ff_context"}) {
                lin.accept(p + s + ".net.0.proj", new long[] {2L * f, d});
                lin.accept(p + s + ".net.2", new long[] {d, f});
            }
        }
        for (int i = 0; i < cfg.numSingleLayers(); i++) {
            String p = "single_transformer_blocks." + i + ".";
            lin.accept(p + "norm.linear", new long[] {3L * d, d});
            for (String s : new String[] {"to_q", "to_k", "to_v"}) lin.accept(p + "attn." + s, new long[] {d, d});
            for (String s : new String[] {"norm_q", "norm_k"}) add.accept(p + "attn." + s + ".weight", new long[] {hd});
            lin.accept(p + "proj_mlp", new long[] {2L * f, d});
            lin.accept(p + "proj_out", new long[] {d, d + f});
        }
        lin.accept("norm_out.linear", new long[] {2L * d, d});
        lin.accept("proj_out", new long[] {cfg.outChannels(), d});
        return new Weights() {
            @Override public Tensor get(String name) {
                Tensor t = m.get(name);
                if (t == null) throw new IllegalArgumentException("no " + name);
                return t;
            }
            @Override public Tensor rows(String name, long from, long to) { return get(name).rows(from, to); }
            @Override public boolean has(String name) { return m.containsKey(name); }
            @Override public String origin() { return "random"; }
        };
    }

    /** Multiply-adds x 2 of one forward (projections and attention's two products); the backward is about twice that. */
    static double forwardFlops(TransformerConfig cfg, int b, int img, int txt) {
        double d = cfg.innerDim(), f = cfg.mlpHidden(), l = img + txt, rows = b * l;
        double dbl = rows * (4 * d * d + 3 * d * f) + 4 * b * cfg.numAttentionHeads() * l * l * cfg.attentionHeadDim() / 2;
        double sgl = rows * (3 * d * d + 2 * d * f + (d + f) * d) + 4 * b * cfg.numAttentionHeads() * l * l * cfg.attentionHeadDim() / 2;
        double embed = b * img * cfg.inChannels() * d + b * txt * cfg.jointAttentionDim() * d + b * img * d * cfg.outChannels();
        return 2 * (cfg.numLayers() * dbl + cfg.numSingleLayers() * sgl + embed);
    }

    static void measure(String name, TrainableTransformer model, int b, int img, int txt, int warmup, int steps, boolean recompute) {
        TransformerConfig cfg = model.config();
        Random r = new Random(5);
        float[] x0 = new float[b * img * cfg.inChannels()], noise = new float[x0.length], text = new float[b * txt * cfg.jointAttentionDim()];
        for (int i = 0; i < x0.length; i++) {
            x0[i] = (float) r.nextGaussian();
            noise[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < text.length; i++) text[i] = (float) r.nextGaussian();
        float[] sigmas = new float[b];
        for (int i = 0; i < b; i++) sigmas[i] = (i + 0.5f) / b;
        int gw = (int) Math.round(Math.sqrt(img));
        while (img % gw != 0) gw--;
        float[] ids = PositionEmbedding.ids(txt, img / gw, gw);
        float[] txtIds = Arrays.copyOf(ids, txt * 3), imgIds = Arrays.copyOfRange(ids, txt * 3, ids.length);
        float[] xt = FlowMatching.interpolate(x0, noise, sigmas), target = FlowMatching.target(x0, noise);
        TransformerBatch batch = new TransformerBatch(b, img, txt, xt, text, sigmas, txtIds, imgIds);
        long[] fwd = new long[steps], bwd = new long[steps];
        for (int s = -warmup; s < steps; s++) {
            long t0 = System.nanoTime();
            TransformerPass pass = model.forward(batch, recompute);
            long t1 = System.nanoTime();
            model.backward(pass, FlowMatching.lossGradient(pass.prediction(), target));
            long t2 = System.nanoTime();
            if (s >= 0) {
                fwd[s] = t1 - t0;
                bwd[s] = t2 - t1;
            }
        }
        Arrays.sort(fwd);
        Arrays.sort(bwd);
        double f = fwd[steps / 2] / 1e9, bk = bwd[steps / 2] / 1e9, flops = forwardFlops(cfg, b, img, txt);
        System.out.printf("%s, batch %d (%d image + %d text tokens), %d threads%s: forward %.4f s, backward %.4f s, "
                        + "%.2f samples/s, forward %.1f GFLOP/s, backward %.1f GFLOP/s (median of %d)%n",
                name, b, img, txt, Parallel.threads(), recompute ? ", recomputing blocks" : "", f, bk, b / (f + bk),
                flops / f / 1e9, 2 * flops / bk / 1e9, steps);
    }

    public static void main(String[] args) {
        Path tiny = Path.of(args.length > 0 ? args[0] : "ovis4j-train/src/test/resources/goldens/ovis_image_tiny");
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        measure("tiny", TrainableTransformer.load(tiny), 2, 6, 5, 300, 500, false);
        if (steps == 0) return;
        TransformerConfig mid = new TransformerConfig(64, 64, 2, 2, 64, 12, 2048, new int[] {8, 28, 28});
        TrainableTransformer model = new TrainableTransformer(mid, random(mid, 1), true, Adapters.NONE);
        measure("mid (2+2 blocks, width 768, 12 x 64 heads)", model, 4, 256, 64, 2, steps, false);
        if (args.length > 2) measure("mid (2+2 blocks, width 768, 12 x 64 heads)", model, 4, 256, 64, 2, steps, true);
    }
}
