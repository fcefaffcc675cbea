package org.ovis4j.train.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.ovis4j.train.testing.GradCheck.*;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.train.dit.DenseProjection;
import org.ovis4j.train.param.Parameter;

class LoraAdapterTest {
    /** Two chained float32 products of at most 129 and 7 terms against double: a few ulp of O(sqrt(terms)) values. */
    private static final double TOL = 2e-5;

    /** y = W x + b + s·B(A x) in double. */
    static double[] naive(double[] x, double[] w, double[] bias, double[] a, double[] b, double s, int m, int in, int out, int r) {
        double[] y = new double[m * out];
        for (int i = 0; i < m; i++) {
            double[] u = new double[r];
            for (int k = 0; k < r; k++)
                for (int t = 0; t < in; t++) u[k] += a[k * in + t] * x[i * in + t];
            for (int o = 0; o < out; o++) {
                double v = bias[o], l = 0;
                for (int t = 0; t < in; t++) v += w[o * in + t] * x[i * in + t];
                for (int k = 0; k < r; k++) l += b[o * r + k] * u[k];
                y[i * out + o] = v + s * l;
            }
        }
        return y;
    }

    /** Through a LoRA projection over a frozen dense base: y, dX, dA, dB against naive loops and finite differences. */
    @Test
    void adaptedLayerMatchesNaiveLoopsAndFiniteDifferences() {
        Random rnd = new Random(71);
        for (int m : SIZES)
            for (int in : SIZES)
                for (int out : new int[] {1, 7, 33})
                    for (int r : new int[] {1, 4, 7}) {
                        String at = m + "x" + in + "x" + out + " r" + r;
                        float[] x = random(rnd, m * in), w = random(rnd, out * in), bias = random(rnd, out);
                        float[] a = random(rnd, r * in), b = random(rnd, out * r), g = random(rnd, m * out);
                        float s = 8f / 3f;
                        DenseProjection base = new DenseProjection("m", Parameter.frozen("m.weight", new long[] {out, in}, w),
                                Parameter.frozen("m.bias", new long[] {out}, bias));
                        Parameter pa = Parameter.trainable("m.lora_A.weight", new long[] {r, in}, a);
                        Parameter pb = Parameter.trainable("m.lora_B.weight", new long[] {out, r}, b);
                        LoraProjection lora = new LoraProjection(base, new LoraAdapter(pa, pb, s));
                        double[] xd = toDouble(x), wd = toDouble(w), bd = toDouble(bias), ad = toDouble(a), bbd = toDouble(b);
                        float[] y = new float[m * out];
                        lora.forward(x, m, y);
                        assertClose("y " + at, naive(xd, wd, bd, ad, bbd, s, m, in, out, r), y, TOL);
                        float[] dx = new float[m * in];
                        lora.backward(x, m, g, dx, false);
                        assertNull(base.weight().grad());
                        assertClose("dx fd " + at, numeric(xd, v -> dot(naive(v, wd, bd, ad, bbd, s, m, in, out, r), g), 40), dx, TOL);
                        assertClose("dA fd " + at, numeric(ad, v -> dot(naive(xd, wd, bd, v, bbd, s, m, in, out, r), g), 40), pa.grad(), TOL);
                        assertClose("dB fd " + at, numeric(bbd, v -> dot(naive(xd, wd, bd, ad, v, s, m, in, out, r), g), 40), pb.grad(), TOL);
                    }
    }

    /** Adapters stored under diffusers' names are read by module; a lone A or B, or ranks that differ, are refused. */
    @Test
    void storedAdaptersAreReadByModuleAndCheckedInPairs() {
        Arena arena = Arena.ofAuto();
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("transformer.a.to_q.lora_A.weight", Tensor.ofFloats("a", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}, arena));
        m.put("transformer.a.to_q.lora_B.weight", Tensor.ofFloats("b", new long[] {1, 2}, new float[] {7, 8}, arena));
        m.put("in.x0", Tensor.ofFloats("x", new long[] {1}, new float[] {0}, arena));
        var stored = LoraAdapters.stored(m, "transformer.");
        assertEquals(Set.of("a.to_q"), stored.keySet());
        assertArrayEquals(new float[] {7, 8}, stored.get("a.to_q").b());
        assertEquals(2, LoraAdapters.storedRank(m, "transformer."));
        m.put("transformer.c.lora_A.weight", Tensor.ofFloats("c", new long[] {1, 3}, new float[3], arena));
        assertThrows(OvisException.class, () -> LoraAdapters.stored(m, "transformer."));
        assertThrows(OvisException.class, () -> LoraAdapters.storedRank(m, "transformer."));
        m.remove("transformer.c.lora_A.weight");
        m.put("transformer.c.lora_B.weight", Tensor.ofFloats("c", new long[] {1, 2}, new float[2], arena));
        assertThrows(OvisException.class, () -> LoraAdapters.stored(m, "transformer."));
    }
}
