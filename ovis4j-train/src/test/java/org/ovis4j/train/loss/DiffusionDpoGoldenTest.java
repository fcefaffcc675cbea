package org.ovis4j.train.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.ovis4j.train.testing.TrainingGoldens.*;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.dit.TransformerBatch;
import org.ovis4j.train.param.Parameter;

/**
 * training/dpo.safetensors (goldens README 9.6): Diffusion-DPO of the tiny transformer (the policy, every
 * parameter trained) against a reference whose weights are float32(w + float32(ref_delta)) with the
 * stored BF16 deltas; x_σ, both predictions, the four per-row errors, the logits, the loss and the
 * gradients of all 105 parameters, against PyTorch autograd in float32.
 *
 * <p>Tolerances (README 9.9). The predictions and errors are plain transformer forwards and means, as
 * precise as the flow-matching file's (reference against float64: ≤ 3.1e-5 of the scale; two float32
 * implementations differ by about twice that): 2e-4 of the scale for the predictions, 1e-5 relative
 * for the errors (f32 against f64 of a mean of squares: ~1e-7). The logits, the loss and the gradients
 * are a difference of nearly equal errors, err − ref_err ≈ 1e-3 of err ≈ 3.3, multiplied by β/2 =
 * 1000: float32 rounding of order 1e-6 in each error becomes ~1e-3 absolute in the logits. The
 * reference's own float32 values are off their float64 values by 4.4e-4 of max|logits| (logit 1:
 * 0.42915 against 0.42831), 2.2e-4 relative in the loss and 4.6e-4 of the scale in the gradients, and
 * ours are independently off by as much (our errors are summed in double, our forward rounds
 * differently), so: logits 2e-3 of max|logits|, loss 2e-3 relative, gradients 3e-3 of the scale (at
 * least 1e-2 of the file's largest gradient). A wrong sign, factor or row order moves these by O(1).
 */
class DiffusionDpoGoldenTest {
    static final Map<String, Tensor> G = read("dpo.safetensors");
    static final int PAIRS = 2, N = 6, T = 5;
    static final double TOL = 2e-4, ERR_TOL = 1e-5, AMPLIFIED_TOL = 2e-3, GRAD_TOL = 3e-3;

    static DiffusionDpo.Pairs pairs() {
        return new DiffusionDpo.Pairs(PAIRS, N, T, floats(G, "in.x_w"), floats(G, "in.x_l"), floats(G, "in.noise"),
                floats(G, "in.sigma"), floats(G, "in.prompt_embeds"), floats(G, "in.txt_ids"), floats(G, "in.img_ids"));
    }

    /** The frozen reference: the checkpoint with every weight moved by its stored BF16 delta, in float32. */
    static TrainableTransformer reference() {
        Map<String, Tensor> deltas = new LinkedHashMap<>();
        for (String k : G.keySet())
            if (k.startsWith("ref_delta.")) {
                assertEquals("BF16", G.get(k).dtype().name(), k);
                deltas.put(k.substring("ref_delta.".length()), G.get(k));
            }
        assertEquals(105, deltas.size());
        return DiffusionDpo.reference(tinyModel(), deltas);
    }

    @Test
    void lossLogitsAndEveryPolicyGradientMatchPyTorch() {
        TrainableTransformer policy = TrainableTransformer.load(tinyModel()), reference = reference();
        DiffusionDpo dpo = new DiffusionDpo(tensor(G, "hp.beta").getDouble(0));
        DiffusionDpo.Step step = dpo.forward(policy, reference, pairs(), false);

        Map<String, Double> worst = new LinkedHashMap<>();
        worst.put("x_t", assertScaled("x_t", floats(G, "x_t"), step.latents(), TOL, 0));
        worst.put("pred", assertScaled("pred", floats(G, "pred"), step.prediction(), TOL, 0));
        worst.put("ref_pred", assertScaled("ref_pred", floats(G, "ref_pred"), step.referencePrediction(), TOL, 0));
        double[] err = step.errors(), refErr = step.referenceErrors();
        worst.put("err, ref_err (relative)", Math.max(
                Math.max(relative("err_w", floats(G, "err_w"), err, 0, ERR_TOL), relative("err_l", floats(G, "err_l"), err, PAIRS, ERR_TOL)),
                Math.max(relative("ref_err_w", floats(G, "ref_err_w"), refErr, 0, ERR_TOL),
                        relative("ref_err_l", floats(G, "ref_err_l"), refErr, PAIRS, ERR_TOL))));
        double[] logits = step.logits();
        worst.put("logits", assertScaled("logits", floats(G, "logits"), new float[] {(float) logits[0], (float) logits[1]},
                AMPLIFIED_TOL, 0));
        double expectedLoss = floats(G, "loss")[0];
        assertRelative("loss", expectedLoss, step.loss(), AMPLIFIED_TOL);
        worst.put("loss (relative)", Math.abs(step.loss() - expectedLoss) / expectedLoss);

        step.backward();
        double floor = 1e-2 * maxAbs(G, "grad.");
        int compared = 0;
        for (Parameter p : policy.parameters()) {
            String group = p.name().startsWith("transformer_blocks.") ? "grad double blocks"
                    : p.name().startsWith("single_transformer_blocks.") ? "grad single blocks"
                    : p.name().startsWith("norm_out.") || p.name().startsWith("proj_out.") ? "grad output layer" : "grad embedders";
            worst.merge(group, assertScaled("grad." + p.name(), floats(G, "grad." + p.name()), p.grad(), GRAD_TOL, floor), Math::max);
            compared++;
        }
        assertEquals(105, compared);
        for (Parameter p : reference.parameters()) assertNull(p.grad(), "the reference is frozen: " + p.name());
        worst.forEach((k, v) -> System.out.printf("dpo worst %-26s %.3g%n", k, v));
        // for the record: the README's float64 run gives logits (−1.9214512, 0.42831015), loss 1.2799115
        System.out.printf("dpo logits (%.8g, %.8g), loss %.8g%n", logits[0], logits[1], step.loss());
    }

    /**
     * The two models of one JVM do not disturb each other: the policy's prediction, taken before the
     * reference exists, is what the DPO step computes next to it, with or without recomputation.
     */
    @Test
    void theReferenceDoesNotChangeThePolicysPass() {
        TrainableTransformer policy = TrainableTransformer.load(tinyModel());
        float[] alone = policy.forward(new TransformerBatch(2 * PAIRS, N, T, floats(G, "x_t"), stack(floats(G, "in.prompt_embeds")),
                stack(floats(G, "in.sigma")), floats(G, "in.txt_ids"), floats(G, "in.img_ids")), false).prediction();
        TrainableTransformer reference = reference();
        DiffusionDpo dpo = new DiffusionDpo(2000);
        DiffusionDpo.Step first = dpo.forward(policy, reference, pairs(), false);
        DiffusionDpo.Step again = dpo.forward(policy, reference, pairs(), true);
        assertArrayEquals(alone, first.prediction());
        assertArrayEquals(alone, again.prediction());
        assertArrayEquals(first.referencePrediction(), again.referencePrediction());
        // a reference equal to the policy gives logits 0 and loss log 2; the policy itself is refused
        DiffusionDpo.Step self = dpo.forward(policy, DiffusionDpo.reference(tinyModel(), Map.of()), pairs(), false);
        assertArrayEquals(new double[] {0, 0}, self.logits(), 0);
        assertEquals(Math.log(2), self.loss(), 1e-15);
        assertThrows(OvisException.class, () -> dpo.forward(policy, policy, pairs(), false));
    }

    /** The reference's deltas come for every parameter or none, each of its parameter's shape: anything else is refused. */
    @Test
    void referenceDeltasAreAllOrNoneAndOfTheParametersShapes() {
        Map<String, Tensor> deltas = new LinkedHashMap<>();
        for (String k : G.keySet()) if (k.startsWith("ref_delta.")) deltas.put(k.substring("ref_delta.".length()), G.get(k));
        Map<String, Tensor> partial = new LinkedHashMap<>(deltas);
        partial.remove("proj_out.bias");
        assertThrows(OvisException.class, () -> DiffusionDpo.reference(tinyModel(), partial));
        Map<String, Tensor> extra = new LinkedHashMap<>(deltas);
        extra.put("no_such.weight", G.get("ref_delta.proj_out.bias"));
        assertThrows(OvisException.class, () -> DiffusionDpo.reference(tinyModel(), extra));
        Map<String, Tensor> misshapen = new LinkedHashMap<>(deltas);
        misshapen.put("proj_out.bias", G.get("ref_delta.x_embedder.bias"));
        assertThrows(OvisException.class, () -> DiffusionDpo.reference(tinyModel(), misshapen));
        // the moved weights are float32(w + float32(delta)), nothing else
        TrainableTransformer policy = TrainableTransformer.load(tinyModel()), moved = DiffusionDpo.reference(tinyModel(), deltas);
        float[] w = policy.parameters().get("proj_out.weight").value(), d = deltas.get("proj_out.weight").toFloats();
        float[] r = moved.parameters().get("proj_out.weight").value();
        for (int i = 0; i < w.length; i++) assertEquals(w[i] + d[i], r[i], 0);
    }

    private static float[] stack(float[] x) {
        float[] s = Arrays.copyOf(x, 2 * x.length);
        System.arraycopy(x, 0, s, x.length, x.length);
        return s;
    }

    /** Compares rows from..from+P of a per-row array with a golden [P] at a relative tolerance; returns the worst. */
    private static double relative(String what, float[] expected, double[] actual, int from, double tol) {
        double worst = 0;
        for (int p = 0; p < expected.length; p++) {
            assertRelative(what + "[" + p + "]", expected[p], actual[from + p], tol);
            worst = Math.max(worst, Math.abs(actual[from + p] - expected[p]) / Math.abs(expected[p]));
        }
        return worst;
    }
}
