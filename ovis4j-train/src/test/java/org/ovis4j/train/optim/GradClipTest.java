package org.ovis4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;
import org.ovis4j.train.testing.TrainingGoldens;

class GradClipTest {
    private static Parameters random(long seed, int... sizes) {
        Random r = new Random(seed);
        Parameters ps = new Parameters();
        for (int k = 0; k < sizes.length; k++) {
            Parameter p = ps.add(Parameter.trainable("p" + k, new long[] {sizes[k]}, new float[sizes[k]]));
            for (int i = 0; i < sizes[k]; i++) p.grad()[i] = (float) (r.nextGaussian() * (k + 1));
        }
        return ps;
    }

    /** Against the naive definition in double: sqrt of the sum over tensors of the squared float32 tensor norms. */
    @Test
    void totalNormIsNormOfTensorNorms() {
        Parameters ps = random(1, 1, 7, 33, 129, 200_001); // the last spans several parallel chunks
        double sum = 0;
        for (Parameter p : ps) {
            double sq = 0;
            for (float g : p.grad()) sq += (double) g * g;
            float norm = (float) Math.sqrt(sq);
            sum += (double) norm * norm;
        }
        float expected = (float) Math.sqrt(sum);
        // double sums in another order differ in the last bits of the double, far below a float32 ulp
        assertEquals(expected, GradClip.totalNorm(ps.trainable()), Math.ulp(expected));
    }

    /** The golden gradients with max_norm 10 (their norm is 3.46): coefficient exactly 1, gradients unchanged. */
    @Test
    void belowMaxNormLeavesGradientsUnchanged() {
        Map<String, Tensor> flow = TrainingGoldens.read("flow_matching.safetensors");
        Map<String, Tensor> weights = SafetensorsFile.read(
                TrainingGoldens.tinyModel().resolve("transformer/diffusion_pytorch_model.safetensors"), Arena.ofAuto()).tensors();
        Parameters ps = new Parameters();
        for (var e : weights.entrySet()) {
            Parameter p = ps.add(Parameter.fromTensor(e.getKey(), e.getValue(), true));
            System.arraycopy(TrainingGoldens.floats(flow, "grad." + e.getKey()), 0, p.grad(), 0, p.size());
        }
        GradClip.Result r = GradClip.clip(ps.trainable(), 10.0);
        assertEquals(1f, r.coef());
        assertTrue(r.finite());
        AdamWGoldenTest.assertUlps("total norm", TrainingGoldens.floats(TrainingGoldens.read("adamw.safetensors"), "step1.total_norm")[0],
                r.totalNorm(), 1);
        for (Parameter p : ps) AdamWGoldenTest.assertBits(p.name(), TrainingGoldens.floats(flow, "grad." + p.name()), p.grad());
    }

    @Test
    void aboveMaxNormScalesToMaxNorm() {
        Parameters ps = random(2, 50, 60);
        float before = GradClip.totalNorm(ps.trainable());
        float[] g0 = ps.get("p1").grad().clone();
        GradClip.Result r = GradClip.clip(ps.trainable(), 0.5);
        assertEquals(before, r.totalNorm());
        assertEquals(1f / (before + (float) 1e-6) * 0.5f, r.coef());
        for (int i = 0; i < g0.length; i++) assertEquals(g0[i] * r.coef(), ps.get("p1").grad()[i]);
        assertEquals(0.5, GradClip.totalNorm(ps.trainable()), 1e-6);
    }

    /** torch's coefficient: reciprocal then multiply in float32, 1e-6 added in float32, clamped at 1. */
    @Test
    void coefficientArithmetic() {
        assertEquals(0.28910327f, GradClip.coefficient(3.4589705f, 1.0)); // the golden's step1.clip_coef
        assertEquals(1f, GradClip.coefficient(0f, 1.0));
        assertEquals(1f / (2f + (float) 1e-6) * 1.5f, GradClip.coefficient(2f, 1.5));
        assertTrue(Float.isNaN(GradClip.coefficient(Float.NaN, 1.0)));
    }

    @Test
    void nonFiniteGradientsAreReported() {
        Parameters ps = random(3, 10);
        ps.get("p0").grad()[4] = Float.POSITIVE_INFINITY;
        GradClip.Result r = GradClip.clip(ps.trainable(), 1.0);
        assertFalse(r.finite());
    }

    @Test
    void frozenParametersAreSkipped() {
        Parameters ps = random(4, 10);
        ps.add(Parameter.frozen("f", new long[] {2}, new float[] {5, 5}));
        assertEquals(GradClip.totalNorm(List.of(ps.get("p0"))), GradClip.totalNorm(List.copyOf(ps.trainable())));
        GradClip.clip(List.of(ps.get("p0"), ps.get("f")), 1.0);
    }
}
