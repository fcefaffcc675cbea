package org.ovis4j.train.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ovis4j.train.testing.TrainingGoldens.*;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.ovis4j.checkpoint.StoreWeights;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.OvisImageTransformer;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.train.loss.FlowMatching;
import org.ovis4j.train.param.Parameter;

/**
 * The flow-matching step of training/flow_matching.safetensors (goldens README 9.2): x_t, target, the
 * prediction, the loss and the gradients of x_t, of the prompt embeddings and of all 105 parameters,
 * against PyTorch autograd in float32.
 *
 * <p>Tolerances (README 9.9): per tensor max|a − b| ≤ 2e-4 · scale, scale = max|reference| and, for
 * gradients, at least 1e-2 · the largest parameter gradient of the file. The reference's own float32
 * error against a true float64 run is up to 3.1e-5 of that scale (most of it from the float32 timestep
 * sinusoid, which both compute alike: then 1.8e-6), and ours is of the same order but rounds
 * differently (other summation orders, Java's correctly rounded exp/sin/cos against PyTorch's
 * vectorised ones), so two float32 results may differ by about twice the reference's error; 2e-4 leaves
 * a margin while any real mistake (a wrong chunk, a missing term) moves gradients by O(1) of the scale.
 * The loss: 1e-5 relative (f32 against f64: 1.3e-7).
 */
class FlowMatchingGoldenTest {
    static final Map<String, Tensor> G = read("flow_matching.safetensors");
    static final double TOL = 2e-4, LOSS_TOL = 1e-5;
    static final int B = 2, N = 6, T = 5;

    static TransformerBatch batch(float[] xt) {
        return new TransformerBatch(B, N, T, xt, floats(G, "in.prompt_embeds"), floats(G, "in.sigma"),
                floats(G, "in.txt_ids"), floats(G, "in.img_ids"));
    }

    static float[] xt() {
        return FlowMatching.interpolate(floats(G, "in.x0"), floats(G, "in.noise"), floats(G, "in.sigma"));
    }

    /** The largest |gradient| over the 105 parameters (not the input gradients): the floor of every gradient's scale. */
    static double parameterGradientScale(TrainableTransformer model) {
        double m = 0;
        for (Parameter p : model.parameters()) m = Math.max(m, maxAbs(floats(G, "grad." + p.name())));
        return m;
    }

    @Test
    void lossPredictionAndEveryGradientMatchPyTorch() {
        TrainableTransformer model = TrainableTransformer.load(tinyModel());
        assertEquals(105, model.parameters().count());
        assertEquals(TransformerConfig.read(org.ovis4j.checkpoint.CheckpointFolder.detect(tinyModel())).parameterCount(),
                model.parameters().numel(true));

        float[] xt = xt(), target = FlowMatching.target(floats(G, "in.x0"), floats(G, "in.noise"));
        Map<String, Double> worst = new LinkedHashMap<>();
        worst.put("x_t", assertScaled("x_t", floats(G, "x_t"), xt, TOL, 0));
        worst.put("target", assertScaled("target", floats(G, "target"), target, TOL, 0));

        TransformerPass pass = model.forward(batch(xt), false);
        worst.put("pred", assertScaled("pred", floats(G, "pred"), pass.prediction(), TOL, 0));
        double loss = FlowMatching.loss(pass.prediction(), target), expectedLoss = floats(G, "loss")[0];
        assertRelative("loss", expectedLoss, loss, LOSS_TOL);

        InputGradients in = model.backward(pass, FlowMatching.lossGradient(pass.prediction(), target));
        double floor = 1e-2 * parameterGradientScale(model);
        worst.put("grad.x_t", assertScaled("grad.x_t", floats(G, "grad.x_t"), in.latents(), TOL, floor));
        // The zero (padding) text row [1, 4] has a gradient ~1000x the others' (RMSNorm at a zero row, README 9.1):
        // compared on its own, so that the other rows are not measured against its scale.
        int row = (T + 4) * 64;
        float[] e = floats(G, "grad.prompt_embeds"), a = in.text();
        worst.put("grad.prompt_embeds (pad row)", assertScaled("grad.prompt_embeds[1, 4]", Arrays.copyOfRange(e, row, row + 64),
                Arrays.copyOfRange(a, row, row + 64), TOL, floor));
        float[] eRest = new float[e.length - 64], aRest = new float[e.length - 64];
        System.arraycopy(e, 0, eRest, 0, row);
        System.arraycopy(e, row + 64, eRest, row, e.length - row - 64);
        System.arraycopy(a, 0, aRest, 0, row);
        System.arraycopy(a, row + 64, aRest, row, a.length - row - 64);
        worst.put("grad.prompt_embeds (other rows)", assertScaled("grad.prompt_embeds (other rows)", eRest, aRest, TOL, floor));

        for (Parameter p : model.parameters()) {
            String group = p.name().startsWith("transformer_blocks.") ? "grad double blocks"
                    : p.name().startsWith("single_transformer_blocks.") ? "grad single blocks"
                    : p.name().startsWith("norm_out.") || p.name().startsWith("proj_out.") ? "grad output layer" : "grad embedders";
            double err = assertScaled("grad." + p.name(), floats(G, "grad." + p.name()), p.grad(), TOL, floor);
            worst.merge(group, err, Math::max);
        }
        worst.put("loss (relative)", Math.abs(loss - expectedLoss) / expectedLoss);
        worst.forEach((k, v) -> System.out.printf("flow_matching worst %-32s %.3g%n", k, v));
    }

    /** Gradient checkpointing recomputes each block in the backward: the gradients must not change by a bit. */
    @Test
    void recomputationGivesBitIdenticalGradients() {
        float[] target = FlowMatching.target(floats(G, "in.x0"), floats(G, "in.noise"));
        TrainableTransformer plain = TrainableTransformer.load(tinyModel()), recomputed = TrainableTransformer.load(tinyModel());
        TransformerPass a = plain.forward(batch(xt()), false), b = recomputed.forward(batch(xt()), true);
        assertArrayEquals(a.prediction(), b.prediction());
        InputGradients ga = plain.backward(a, FlowMatching.lossGradient(a.prediction(), target));
        InputGradients gb = recomputed.backward(b, FlowMatching.lossGradient(b.prediction(), target));
        assertArrayEquals(ga.latents(), gb.latents());
        assertArrayEquals(ga.text(), gb.text());
        for (Parameter p : plain.parameters())
            assertArrayEquals(p.grad(), recomputed.parameters().get(p.name()).grad(), p.name());
    }

    /**
     * A second backward adds the same gradients again (accumulation across micro-batches), and two
     * passes of one model do not disturb each other: their state is the caller's.
     */
    @Test
    void passesAreIndependentAndGradientsAccumulate() {
        float[] target = FlowMatching.target(floats(G, "in.x0"), floats(G, "in.noise"));
        TrainableTransformer model = TrainableTransformer.load(tinyModel());
        TransformerPass first = model.forward(batch(xt()), false);
        float[] other = xt().clone();
        for (int i = 0; i < other.length; i++) other[i] *= -0.5f;
        TransformerPass second = model.forward(batch(other), false);
        model.backward(first, FlowMatching.lossGradient(first.prediction(), target));
        Map<String, float[]> once = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) once.put(p.name(), p.grad().clone());
        model.backward(second, FlowMatching.lossGradient(second.prediction(), target));
        model.parameters().zeroGrad();
        model.backward(first, FlowMatching.lossGradient(first.prediction(), target));
        for (Parameter p : model.parameters()) assertArrayEquals(once.get(p.name()), p.grad(), p.name());
        model.backward(first, FlowMatching.lossGradient(first.prediction(), target));
        for (Parameter p : model.parameters())
            for (int i = 0; i < p.size(); i++) assertEquals(2 * once.get(p.name())[i], p.grad()[i], 1e-6 * (1 + Math.abs(p.grad()[i])));
    }

    /** The training forward is the inference forward: same kernels, same rounding, each sample with its own σ. */
    @Test
    void forwardEqualsTheInferenceTransformerBitForBit() {
        TrainableTransformer model = TrainableTransformer.load(tinyModel());
        float[] xt = xt();
        TransformerPass pass = model.forward(batch(xt), false);
        try (TensorStore store = TensorStore.openFolder(tinyModel().resolve("transformer"))) {
            OvisImageTransformer inference = new OvisImageTransformer(model.config(), new StoreWeights(store));
            float[] ids = batch(xt).ids(), text = floats(G, "in.prompt_embeds"), sigma = floats(G, "in.sigma");
            for (int s = 0; s < B; s++) {
                float[] v = inference.forward(Arrays.copyOfRange(xt, s * N * 64, (s + 1) * N * 64), N,
                        Arrays.copyOfRange(text, s * T * 64, (s + 1) * T * 64), T, sigma[s], ids);
                assertArrayEquals(v, Arrays.copyOfRange(pass.prediction(), s * N * 64, (s + 1) * N * 64), "sample " + s);
            }
        }
    }
}
