package org.ovis4j.train.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.ovis4j.train.testing.TrainingGoldens.assertRelative;
import static org.ovis4j.train.testing.TrainingGoldens.assertScaled;
import static org.ovis4j.train.testing.TrainingGoldens.maxAbs;

import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.text.Qwen3Config;
import org.ovis4j.text.Qwen3Model;
import org.ovis4j.train.loss.CausalLmLoss;
import org.ovis4j.train.param.Parameter;

/**
 * {@link TrainableQwen3} and {@link CausalLmLoss} against PyTorch autograd (goldens/qwen3_lm, written by
 * scripts/goldens/qwen3_lm.py: a hand-written float32 Qwen3 forward as transformers defines it, the tied
 * LM head and ForCausalLMLoss), and the forward against the inference {@link Qwen3Model} on the same weights.
 *
 * <p>Tolerances: the script's --study runs the same computation in float64; torch's float32 results are
 * within 2.4e-6 of it (worst tensor grad k_norm of layer 0; the hidden states 6.5e-7, the loss 4.4e-8), the
 * metric being max|Δ| / scale with scale = max|reference| (gradients: at least 1e-2 x the largest gradient,
 * as goldens README 9.9). Java's float32 kernels sum in other orders, so they err by about as much
 * independently: two such errors stay under 5e-6; 1e-5 leaves a factor 2, while a wrong index, scale or
 * missing term gives errors of the size of the values (1e-1 and more).
 */
class Qwen3GoldenTest {
    static final double TOL = 1e-5, LOSS_TOL = 1e-6;

    static Path dir() {
        try {
            return Path.of(Qwen3GoldenTest.class.getResource("/goldens/qwen3_lm/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static TextBatch batch(Map<String, Tensor> step) {
        Tensor ids = step.get("in.ids");
        int b = (int) ids.dim(0), len = (int) ids.dim(1);
        long[] l = ids.toLongs(), v = step.get("in.valid").toLongs();
        int[] id = new int[l.length], valid = new int[b];
        for (int i = 0; i < l.length; i++) id[i] = (int) l[i];
        for (int i = 0; i < b; i++) valid[i] = (int) v[i];
        return new TextBatch(b, len, id, valid);
    }

    @Test
    void lossAndEveryGradientMatchPyTorch() {
        Path dir = dir();
        Qwen3Config cfg = Qwen3Config.readFolder(dir);
        TrainableQwen3 model = TrainableQwen3.load(cfg, dir.resolve("model.safetensors"));
        Map<String, Tensor> step = SafetensorsFile.read(dir.resolve("step.safetensors"), Arena.ofAuto()).tensors();
        TextBatch batch = batch(step);
        int start = Integer.parseInt(SafetensorsFile.read(dir.resolve("step.safetensors"), Arena.ofAuto()).metadata().get("loss_start"));

        // the targets the trainer builds are the script's shifted labels
        long[] labels = step.get("in.labels").toLongs();
        int[] want = new int[labels.length];
        for (int s = 0; s < batch.samples(); s++)
            for (int t = 0; t < batch.length(); t++) {
                long next = t + 1 < batch.length() ? labels[s * batch.length() + t + 1] : -100;
                want[s * batch.length() + t] = next == -100 ? -1 : (int) next;
            }
        int[] targets = batch.nextTokenTargets(start);
        assertArrayEquals(want, targets);

        TrainableQwen3.Pass pass = model.forward(batch);
        Parameter e = model.embedding();
        CausalLmLoss.Result r = CausalLmLoss.compute(pass.output(), batch.rows(), cfg.hiddenSize(), targets, e.value(), e.grad(),
                CausalLmLoss.Vocabulary.all(cfg.vocabSize()));
        model.backward(pass, r.dHidden());

        assertRelative("loss", step.get("loss").getFloat(0), r.loss(), LOSS_TOL);
        // Real rows only: a pad query sees the pads before it here, and only real keys in transformers' padding mask;
        // no real row and no loss reads a pad row (causal attention, no target there).
        double worst = assertScaled("last_hidden_state", realRows(step.get("last_hidden_state").toFloats(), batch, cfg.hiddenSize()),
                realRows(pass.output(), batch, cfg.hiddenSize()), TOL, 0);
        String worstName = "last_hidden_state";
        double floor = 1e-2 * maxAbs(step, "grad.");
        for (Parameter p : model.parameters()) {
            double err = assertScaled("grad." + p.name(), step.get("grad." + p.name()).toFloats(), p.grad(), TOL, floor);
            if (err > worst) {
                worst = err;
                worstName = "grad." + p.name();
            }
        }
        System.out.printf("qwen3 lm golden: loss %.8f (torch %.8f), worst %.2e (%s)%n", r.loss(), step.get("loss").getFloat(0), worst, worstName);
    }

    private static float[] realRows(float[] x, TextBatch b, int hd) {
        float[] y = x.clone();
        for (int s = 0; s < b.samples(); s++)
            java.util.Arrays.fill(y, (s * b.length() + b.valid()[s]) * hd, (s + 1) * b.length() * hd, 0f);
        return y;
    }

    private static double maxAbs(Map<String, Tensor> file, String prefix) {
        return org.ovis4j.train.testing.TrainingGoldens.maxAbs(file, prefix);
    }

    /**
     * One model, two code paths: the trainable forward's final states equal the inference Qwen3Model's on
     * each sequence's real tokens (forwardPrefix, what OvisTextEncoder runs). Both are float32 with the same
     * RoPE tables; they differ in summation order only (GEMM blocking, norm statistics), so they agree to
     * about 1e-6 of the states' scale; 1e-5 as above.
     */
    @Test
    void forwardEqualsTheInferenceModel() {
        Path dir = dir();
        Qwen3Config cfg = Qwen3Config.readFolder(dir);
        TrainableQwen3 model = TrainableQwen3.load(cfg, dir.resolve("model.safetensors"));
        TextBatch batch = batch(SafetensorsFile.read(dir.resolve("step.safetensors"), Arena.ofAuto()).tensors());
        float[] out = model.forward(batch).output();
        int hd = cfg.hiddenSize(), len = batch.length();
        try (TensorStore store = TensorStore.open("golden", java.util.List.of(dir.resolve("model.safetensors")))) {
            Qwen3Model inference = Qwen3Model.load(store, cfg, null);
            for (int s = 0; s < batch.samples(); s++) {
                int n = batch.valid()[s];
                int[] ids = java.util.Arrays.copyOfRange(batch.ids(), s * len, s * len + n);
                float[] want = inference.forwardPrefix(ids, n);
                float[] got = java.util.Arrays.copyOfRange(out, s * len * hd, (s * len + n) * hd);
                double err = assertScaled("sequence " + s, want, got, TOL, 0);
                System.out.printf("sequence %d (%d tokens): trainable vs inference %.2e%n", s, n, err);
            }
        }
    }
}
