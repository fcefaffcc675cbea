package org.ovis4j.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.ovis4j.checkpoint.OriginalTransformerNames;
import org.ovis4j.checkpoint.StoreWeights;
import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.OvisImageTransformer;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.dit.TransformerWorkspace;
import org.ovis4j.testing.Goldens;

/**
 * Inference with a LoRA file against diffusers' forward (goldens README 9.4): the tiny transformer with
 * training/lora_weights.safetensors (26 modules, rank 4, alpha 8: scale 2) read by {@link Lora#read}, run
 * on lora.safetensors' batch (x_t = (1 − σ)·x0 + σ·noise per sample, README 9.2), gives its {@code pred},
 * which the reference checked bit-identical to diffusers' {@code load_lora_weights} of the same file.
 */
class LoraForwardGoldenTest {
    static final Map<String, Tensor> G = Goldens.read("training/lora.safetensors");
    static final Path FILE = Goldens.tiny().resolve("training/lora_weights.safetensors");
    static final int B = 2, IMG = 6, TXT = 5, C = 64;

    static TransformerConfig config(String folder) {
        return TransformerConfig.fromDiffusers(Goldens.tiny().resolve(folder + "/config.json"));
    }

    /** The batch's velocities, one forward with a σ and latents per sample, as training batches run. */
    static float[][] forward(OvisImageTransformer model) {
        float[] x0 = Goldens.floats(G, "in.x0"), noise = Goldens.floats(G, "in.noise"), sigma = Goldens.floats(G, "in.sigma");
        float[] text = Goldens.floats(G, "in.prompt_embeds");
        float[][] xt = new float[B][], texts = new float[B][];
        for (int b = 0; b < B; b++) {
            int n = IMG * C;
            xt[b] = new float[n];
            float s = sigma[b];
            // float32 element-wise, as the reference computes x_t
            for (int i = 0; i < n; i++) xt[b][i] = (1f - s) * x0[b * n + i] + s * noise[b * n + i];
            texts[b] = Arrays.copyOfRange(text, b * TXT * C, (b + 1) * TXT * C);
        }
        float[] ids = new float[(TXT + IMG) * 3];
        System.arraycopy(Goldens.floats(G, "in.txt_ids"), 0, ids, 0, TXT * 3);
        System.arraycopy(Goldens.floats(G, "in.img_ids"), 0, ids, TXT * 3, IMG * 3);
        return model.forward(new TransformerWorkspace(), xt, IMG, texts, TXT, sigma, ids);
    }

    static float[] sample(float[] batch, int b) {
        return Arrays.copyOfRange(batch, b * IMG * C, (b + 1) * IMG * C);
    }

    static double maxDifference(float[] x, float[] y) {
        double m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs((double) x[i] - y[i]));
        return m;
    }

    /**
     * Tolerance 1e-4 + 1e-4·|x|, the model goldens' float32 rule (README 8): the reference is float32,
     * within 1.4e-5 of its scale of a float64 run (README 9.9, lora row), and our kernels sum in
     * another order; the adapter adds one rounding per element (the scale multiplies A·x before B,
     * peft multiplies B·A·x after), 2^-24 relative. A LoRA that is missing, mis-scaled or on a wrong
     * module moves the output by O(0.1) (asserted below), three orders of magnitude above the bound.
     */
    @Test
    void fileAdaptersMatchDiffusersForward() {
        TransformerConfig cfg = config("transformer");
        Lora lora = Lora.read(FILE, 1f, cfg);
        assertEquals(26, lora.adapters().size());
        for (LoraAdapter a : lora.adapters()) assertEquals(2f, a.scale(), a.module()); // alpha 8 / rank 4
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("transformer"))) {
            OvisImageTransformer base = new OvisImageTransformer(cfg, new StoreWeights(store));
            float[][] got = forward(base.withLora(lora.adapters())), plain = forward(base);
            float[] pred = Goldens.floats(G, "pred");
            for (int b = 0; b < B; b++) {
                double worst = Goldens.assertParity("pred[" + b + "]", sample(pred, b), got[b]);
                double moved = maxDifference(sample(pred, b), plain[b]);
                System.out.printf("lora golden: fp32 transformer with lora_weights.safetensors, sample %d max abs difference %.2e"
                        + " (the LoRA moves it by %.3f)%n", b, worst, moved);
                assertTrue(moved > 0.05, "without the LoRA the prediction differs by only " + moved);
            }
        }
    }

    /** Weight w scales every update by w: at 0.5 the forward is that of the file's B halved (alpha/rank·0.5). */
    @Test
    void weightMultipliesAlphaOverRank() {
        TransformerConfig cfg = config("transformer");
        Lora half = Lora.read(FILE, 0.5f, cfg);
        for (LoraAdapter a : half.adapters()) assertEquals(1f, a.scale(), a.module());
        assertEquals("lora_weights.safetensors:0.5", half.label());
    }

    /**
     * bf16 precision: the base's matrices prepared as bf16 (the checkpoint is float32; {@code
     * Precision.BF16} rounds every matrix at load, biases and norms stay float32), the adapters float32.
     * That is the function a float32 model computes with the same matrices rounded to bf16 and widened
     * back, plus the same adapters: the two agree to the float32 tolerance above (the bf16 kernel keeps
     * float32 activations and accumulates in float32). Against diffusers' float32 prediction the bf16
     * rounding of the base alone moves the output by up to 1.4e-2 (README 7, transformer_forward_bf16w),
     * which the LoRA may amplify a little: bounded by 3x that.
     */
    @Test
    void bf16BaseWithFloat32Adapters() {
        TransformerConfig cfg = config("transformer");
        Lora lora = Lora.read(FILE, 1f, cfg);
        ComputeContext java = ComputeContext.create("java", false);
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("transformer")); Arena arena = Arena.ofShared()) {
            Weights bf16Weights = OriginalTransformerNames.weights(store, cfg, DType.BF16);
            OvisImageTransformer bf16 = new OvisImageTransformer(cfg, bf16Weights, java, false);
            assertEquals(DType.BF16, bf16Weights.get("transformer_blocks.0.attn.to_q.weight").dtype());
            float[][] got = forward(bf16.withLora(lora.adapters())), plain = forward(bf16);
            float[][] widened = forward(new OvisImageTransformer(cfg, widened(bf16Weights, arena)).withLora(lora.adapters()));
            float[] pred = Goldens.floats(G, "pred");
            for (int b = 0; b < B; b++) {
                double same = Goldens.assertParity("bf16 base + lora vs float32 on the bf16-rounded matrices [" + b + "]", widened[b], got[b]);
                double off = maxDifference(sample(pred, b), got[b]);
                System.out.printf("lora golden: bf16 base + float32 LoRA, sample %d: %.2e from float32 on the same rounded matrices,"
                        + " %.2e from diffusers' float32 pred%n", b, same, off);
                assertTrue(off < 3 * 1.4e-2, "bf16 base with LoRA is " + off + " from the float32 prediction");
                assertTrue(maxDifference(got[b], plain[b]) > 0.05, "the LoRA has no effect on the bf16 base");
            }
        }
    }

    /** The same weights with every bf16 tensor widened to float32 (exact), for the float32 kernels. */
    static Weights widened(Weights w, Arena arena) {
        return new Weights() {
            @Override public Tensor get(String name) { return f32(w.get(name)); }
            @Override public Tensor rows(String name, long from, long to) { return f32(w.rows(name, from, to)); }
            @Override public boolean has(String name) { return w.has(name); }
            @Override public String origin() { return w.origin() + " (widened)"; }

            private Tensor f32(Tensor t) { return t.dtype() == DType.BF16 ? t.convert(DType.F32, arena) : t; }
        };
    }
}
