package org.ovis4j.train.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

/**
 * Initial values for training from scratch. The statistics are checked over all tensors of a kind
 * (tens of thousands of values) against their expected moments within 5 standard errors, so a wrong
 * bound, fan-in or offset fails while sampling noise cannot.
 */
class TransformerInitTest {
    /** The tiny golden geometry (150,336 values). */
    static final TransformerConfig TINY = new TransformerConfig(64, 64, 2, 2, 16, 2, 64, new int[] {4, 6, 6});

    static TrainableTransformer initialised(TransformerInit.Scheme scheme, long seed) {
        TrainableTransformer m = new TrainableTransformer(TINY, TrainableTransformer.Source.ZEROS, true, Adapters.NONE);
        TransformerInit.apply(m.parameters(), scheme, seed);
        return m;
    }

    private static long fanIn(Parameters ps, Parameter p) {
        String w = p.name().endsWith(".bias") ? p.name().replaceFirst("\\.bias$", ".weight") : p.name();
        return ps.get(w).shape()[1];
    }

    /** torch's nn.Linear: weight and bias U(−1/√fan_in, 1/√fan_in); RMSNorm weights exactly 1. */
    @Test
    void pytorchSchemeIsTorchsModuleDefault() {
        Parameters ps = initialised(TransformerInit.Scheme.PYTORCH, 3).parameters();
        double z = 0, zz = 0; // u = x·√fan_in is U(−1, 1): E u = 0, E u² = 1/3, Var u² = 4/45
        long n = 0;
        int norms = 0;
        for (Parameter p : ps) {
            if (p.shape().length == 1 && !p.name().endsWith(".bias")) {
                for (float v : p.value()) assertEquals(1f, v, p.name());
                norms++;
                continue;
            }
            double bound = 1 / Math.sqrt(fanIn(ps, p));
            for (float v : p.value()) {
                assertTrue(Math.abs(v) <= bound, p.name() + ": " + v + " outside ±" + bound);
                double u = v / bound;
                z += u;
                zz += u * u;
                n++;
            }
        }
        assertEquals(2 * 4 + 2 * 2 + 1, norms, "context_embedder_norm and the per-head q/k norms");
        assertEquals(0, z / n, 5 * Math.sqrt(1.0 / 3 / n));
        assertEquals(1.0 / 3, zz / n, 5 * Math.sqrt(4.0 / 45 / n));
    }

    /** The golden checkpoint's draws: matrices N(0, 1/fan_in), norm weights 1 + 0.1·N(0, 1), biases 0.1·N(0, 1). */
    @Test
    void goldensSchemeDrawsLikeTheGoldenCheckpoint() {
        Parameters ps = initialised(TransformerInit.Scheme.GOLDENS, 3).parameters();
        double[] sum = new double[3], sq = new double[3];
        long[] n = new long[3];
        for (Parameter p : ps) {
            boolean bias = p.name().endsWith(".bias"), norm = p.shape().length == 1 && !bias;
            int k = norm ? 0 : bias ? 1 : 2;
            double scale = k == 2 ? Math.sqrt(fanIn(ps, p)) : 10, offset = k == 0 ? 1 : 0;
            for (float v : p.value()) {
                double u = (v - offset) * scale; // standard normal if the scheme is right
                sum[k] += u;
                sq[k] += u * u;
                n[k]++;
            }
        }
        for (int k = 0; k < 3; k++) {
            assertEquals(0, sum[k] / n[k], 5 / Math.sqrt(n[k]), "mean of kind " + k);
            assertEquals(1, sq[k] / n[k], 5 * Math.sqrt(2.0 / n[k]), "variance of kind " + k);
        }
    }

    /** A tensor's values depend on the seed and its name only. */
    @Test
    void valuesAreAFunctionOfSeedAndName() {
        Parameters a = initialised(TransformerInit.Scheme.PYTORCH, 3).parameters(), b = initialised(TransformerInit.Scheme.PYTORCH, 3).parameters();
        Parameters c = initialised(TransformerInit.Scheme.PYTORCH, 4).parameters();
        for (Parameter p : a) {
            assertArrayEquals(p.value(), b.get(p.name()).value(), p.name());
            if (p.shape().length == 2) assertFalse(Arrays.equals(p.value(), c.get(p.name()).value()), p.name());
        }
        // one tensor initialised alone (with its weight, for a bias's fan-in) equals the same tensor within the model
        Parameters alone = new Parameters();
        Parameter w = a.get("single_transformer_blocks.1.proj_out.weight"), bias = a.get("single_transformer_blocks.1.proj_out.bias");
        alone.add(Parameter.trainable(bias.name(), bias.shape(), new float[bias.size()]));
        alone.add(Parameter.trainable(w.name(), w.shape(), new float[w.size()]));
        TransformerInit.apply(alone, TransformerInit.Scheme.PYTORCH, 3);
        assertArrayEquals(w.value(), alone.get(w.name()).value());
        assertArrayEquals(bias.value(), alone.get(bias.name()).value());
        assertFalse(Arrays.equals(a.get("transformer_blocks.0.attn.to_q.weight").value(), a.get("transformer_blocks.0.attn.to_k.weight").value()));
    }
}
