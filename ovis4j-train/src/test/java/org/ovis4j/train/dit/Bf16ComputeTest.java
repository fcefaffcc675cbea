package org.ovis4j.train.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.ovis4j.train.testing.TrainingGoldens.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.train.loss.FlowMatching;
import org.ovis4j.train.optim.AdamW;
import org.ovis4j.train.optim.ComputePrecision;
import org.ovis4j.train.optim.ComputeWeights;
import org.ovis4j.train.param.Parameter;

/**
 * bf16 compute ({@link ComputePrecision#BF16}): one flow-matching step of the tiny checkpoint on the
 * goldens' batch, every gradient against the float32 path's.
 *
 * <p>Tolerance. Each bf16 product rounds both operands to 8 significant bits, a relative error of at
 * most u = 2⁻⁹ each, so every term a·b is off by at most 2u + u² ≈ 2⁻⁸ of |a·b| and the product's result
 * by at most 2⁻⁸·Σ|a·b| (the float32 sums add nothing comparable: k·2⁻²⁴ for these k ≤ 128). An error
 * entering one product travels on through the later ones without growing when the layers are
 * well-conditioned (an error of ε in X is an error ≤ ε·|X||W| in Y, the scale Y has), so the errors along
 * a chain add: the gradient of the first layer's weight passes through the longest chain, the forward
 * (x_embedder, 2 double blocks of 4 sequential products: to_q, to_out, ff in, ff out; 2 single blocks of
 * 2: to_q/proj_mlp, proj_out; proj_out: 14 products) and back (the same 14 for dX, one for dW: 15). So
 * a gradient is within 29·2⁻⁸ ≈ 0.113 of its scale in the worst case; per-element errors are
 * independent roundings that mostly cancel (≈ √29·2⁻⁹ ≈ 0.011 rms). The test asserts the worst case,
 * TOL = 29·2⁻⁸, per tensor (scale: max|fp32 gradient|, at least 1e-2 of the largest parameter
 * gradient, as the golden test), and the root-mean-square error over all parameter gradients, relative
 * to their rms, against the rms estimate with a factor 2 of margin, 2·√29·2⁻⁹: a systematic mistake
 * (a transposed operand, a lost accumulation, a stale weight copy) is of the order of the values
 * themselves and fails both.
 */
class Bf16ComputeTest {
    static final int CHAIN = 29;
    static final double TOL = CHAIN * 0x1p-8, RMS_TOL = 2 * Math.sqrt(CHAIN) * 0x1p-9;

    /** bf16 compute weights where oneDNN's bf16 matmul runs here (the CPU has AVX512-BF16 or AMX), else null. */
    static ComputeWeights bf16OrNull() {
        List<String> notices = new ArrayList<>();
        ComputeWeights cw = ComputeWeights.of(ComputePrecision.BF16, notices::add);
        if (cw.precision() == ComputePrecision.BF16) {
            assertTrue(notices.isEmpty(), notices.toString());
            return cw;
        }
        assertEquals(1, notices.size(), notices.toString());
        return null;
    }

    static boolean cpuHasBf16() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
                if (line.startsWith("flags")) return line.contains(" avx512_bf16") || line.contains(" amx_bf16");
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    @Test
    void bf16RunsWhereTheCpuHasABf16DotProduct() {
        ComputeWeights cw = bf16OrNull();
        assertEquals(cpuHasBf16(), cw != null, "bf16 compute on a CPU " + (cpuHasBf16() ? "with" : "without") + " AVX512-BF16/AMX");
        if (cw != null) assertTrue(cw.describe().startsWith("bf16 (oneDNN 3."), cw.describe());
    }

    @Test
    void oneStepsGradientsAreTheFloat32OnesWithinBf16Rounding() {
        ComputeWeights cw = bf16OrNull();
        assumeTrue(cw != null, "no bf16 matmul here (bf16RunsWhereTheCpuHasABf16DotProduct checks the fallback)");
        TrainableTransformer f32 = TrainableTransformer.load(tinyModel());
        TrainableTransformer b16 = TrainableTransformer.load(tinyModel(), true, Adapters.NONE, true, cw);
        assertEquals(ComputePrecision.BF16, b16.computeWeights().precision());
        // every linear weight has its bf16 copy (norm weights and biases stay float32)
        long linear = f32.parameters().trainable().stream().filter(p -> p.shape().length == 2).count();
        assertEquals(linear, cw.registered().size());

        float[] target = FlowMatching.target(floats(FlowMatchingGoldenTest.G, "in.x0"), floats(FlowMatchingGoldenTest.G, "in.noise"));
        TransformerPass pa = f32.forward(FlowMatchingGoldenTest.batch(FlowMatchingGoldenTest.xt()), false);
        TransformerPass pb = b16.forward(FlowMatchingGoldenTest.batch(FlowMatchingGoldenTest.xt()), false);
        Map<String, Double> worst = new LinkedHashMap<>();
        worst.put("pred", assertScaled("pred", pa.prediction(), pb.prediction(), TOL, 0));
        double la = FlowMatching.loss(pa.prediction(), target), lb = FlowMatching.loss(pb.prediction(), target);
        worst.put("loss (relative)", Math.abs(la - lb) / la);
        assertRelative("loss", la, lb, TOL);
        InputGradients ga = f32.backward(pa, FlowMatching.lossGradient(pa.prediction(), target));
        InputGradients gb = b16.backward(pb, FlowMatching.lossGradient(pb.prediction(), target));
        double largest = 0;
        for (Parameter p : f32.parameters()) largest = Math.max(largest, maxAbs(p.grad()));
        double floor = 1e-2 * largest;
        worst.put("grad.x_t", assertScaled("grad.x_t", ga.latents(), gb.latents(), TOL, floor));
        double se = 0, ss = 0;
        for (Parameter p : f32.parameters()) {
            float[] a = p.grad(), b = b16.parameters().get(p.name()).grad();
            worst.merge("grad (worst tensor)", assertScaled("grad." + p.name(), a, b, TOL, floor), Math::max);
            for (int i = 0; i < a.length; i++) {
                se += (a[i] - (double) b[i]) * (a[i] - (double) b[i]);
                ss += (double) a[i] * a[i];
            }
        }
        double rms = Math.sqrt(se / ss);
        worst.put("grad rms (relative)", rms);
        worst.forEach((k, v) -> System.out.printf("bf16 vs fp32 %-24s %.3g%n", k, v));
        assertTrue(rms <= RMS_TOL, "rms error of the gradients " + rms + " > " + RMS_TOL);
        assertTrue(rms > 0, "bf16 products must differ from float32 ones somewhere");
    }

    /** The copies follow the masters only through refresh(): after it, the model computes what a model built from those masters computes. */
    @Test
    void refreshedCopiesAreTheOnesANewModelMakes() {
        ComputeWeights cw = bf16OrNull();
        assumeTrue(cw != null, "no bf16 matmul here");
        TrainableTransformer m = TrainableTransformer.load(tinyModel(), true, Adapters.NONE, true, cw);
        TransformerBatch batch = FlowMatchingGoldenTest.batch(FlowMatchingGoldenTest.xt());
        float[] target = FlowMatching.target(floats(FlowMatchingGoldenTest.G, "in.x0"), floats(FlowMatchingGoldenTest.G, "in.noise"));
        TransformerPass p0 = m.forward(batch, false);
        m.backward(p0, FlowMatching.lossGradient(p0.prediction(), target));
        new AdamW(m.parameters(), new AdamW.Hyperparameters(1e-2, 0.9, 0.999, 1e-8, 0)).step();
        float[] stale = m.forward(batch, false).prediction();
        m.computeWeights().refresh();
        float[] fresh = m.forward(batch, false).prediction();
        assertFalse(java.util.Arrays.equals(stale, fresh), "refresh() changes what the layers read");

        ComputeWeights other = ComputeWeights.of(ComputePrecision.BF16, s -> {});
        TrainableTransformer rebuilt = new TrainableTransformer(m.config(), (name, shape) -> m.parameters().get(name).value().clone(),
                true, Adapters.NONE, other);
        assertArrayEquals(fresh, rebuilt.forward(batch, false).prediction());
    }

    /** Without a bf16 matmul (here: the java backend), bf16 falls back to float32, says why once, and computes the float32 bits. */
    @Test
    void withoutABf16MatmulItComputesInFloat32AndSaysSoOnce() {
        List<String> notices = new ArrayList<>();
        ComputeWeights cw = ComputeWeights.of(ComputePrecision.BF16, ComputeContext.JAVA, notices::add, null);
        assertSame(ComputeWeights.FP32, cw);
        assertEquals(List.of("compute_precision bf16 needs oneDNN's bf16 matmul (AVX512-BF16 or AMX), unavailable here "
                + "(the ovis4j-onednn module is not on the class path); computing in float32"), notices);
        assertNull(cw.gemm());
        TrainableTransformer a = TrainableTransformer.load(tinyModel()), b = TrainableTransformer.load(tinyModel(), true, Adapters.NONE, true, cw);
        TransformerBatch batch = FlowMatchingGoldenTest.batch(FlowMatchingGoldenTest.xt());
        assertArrayEquals(a.forward(batch, false).prediction(), b.forward(batch, false).prediction());
        assertSame(ComputeWeights.FP32, ComputeWeights.of(ComputePrecision.FP32, ComputeContext.JAVA, notices::add, null));
        assertEquals(1, notices.size(), "fp32 says nothing");
    }

    /**
     * A CPU without AVX512-BF16 as oneDNN sees it when capped by ONEDNN_MAX_CPU_ISA (a child JVM): bf16
     * falls back to float32 with one notice naming the reason.
     */
    @Test
    void onACpuWithoutBf16ItFallsBackWithTheReason() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Xlog:disable", "-cp", System.getProperty("java.class.path"), Bf16Probe.class.getName());
        pb.environment().put("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        List<String> out = new String(p.getInputStream().readAllBytes()).lines().filter(l -> l.startsWith("probe: ")).toList();
        assertEquals(0, p.waitFor());
        assertEquals(2, out.size(), out.toString());
        assertEquals("probe: notice compute_precision bf16 needs oneDNN's bf16 matmul (AVX512-BF16 or AMX), unavailable here "
                + "(oneDNN backend unavailable (oneDNN 3.11.0 (OpenMP) found the CPU without AVX512-BF16 or AMX (ISA avx512_core_vnni);"
                + " bf16 matmul would not beat the Java kernels); using java); computing in float32", out.get(0));
        assertEquals("probe: fp32 (java)", out.get(1));
        assertNotNull(out);
    }
}
