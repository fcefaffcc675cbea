package org.ovis4j.train.vae;

import static org.ovis4j.train.ops.VaeOpsTesting.assertClose;
import static org.ovis4j.train.ops.VaeOpsTesting.assertFiniteDifferences;
import static org.ovis4j.train.ops.VaeOpsTesting.dot;
import static org.ovis4j.train.ops.VaeOpsTesting.gaussian;
import static org.ovis4j.train.ops.VaeOpsTesting.toDouble;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

/**
 * The composite stages (mid-block attention, resnet with and without shortcut, upsampler) against
 * naive double versions written from diffusers' definitions, and their gradients against central
 * differences of those double versions, on odd sizes. Tolerance 1e-4 of the largest reference value:
 * a stage chains 3–5 float32 kernels, each accurate to ~1e-6 of its scale (see the op tests), and the
 * GroupNorm's 1/σ can amplify by the ratio of the scales; index errors are O(1).
 */
class StageGradientTest {
    private static final double TOL = 1e-4;
    private static final float EPS = 1e-6f;

    /** Values drawn as the goldens' weights are: kernels N(0, 1/fan_in), norm weights 1 + 0.1·N, biases 0.1·N. */
    private static TrainableVae.Source randomSource(Random r, Map<String, float[]> drawn) {
        return (name, shape) -> {
            int n = 1;
            for (long s : shape) n *= (int) s;
            float[] v;
            if (shape.length == 1 && name.endsWith(".weight")) {
                v = gaussian(r, n, 0.1);
                for (int i = 0; i < n; i++) v[i] += 1f;
            } else if (shape.length == 1) {
                v = gaussian(r, n, 0.1);
            } else {
                v = gaussian(r, n, 1 / Math.sqrt((double) n / shape[0]));
            }
            drawn.put(name, v);
            return v;
        };
    }

    // ---- naive double building blocks, channels-last [B, P, C] ----

    static double[] groupNorm(double[] x, int batch, int pixels, int c, int groups, double[] g, double[] b, boolean silu) {
        int cg = c / groups;
        double[] y = new double[x.length];
        for (int s = 0; s < batch; s++)
            for (int gr = 0; gr < groups; gr++) {
                double sum = 0, n = (double) pixels * cg;
                for (int p = 0; p < pixels; p++) for (int j = 0; j < cg; j++) sum += x[(s * pixels + p) * c + gr * cg + j];
                double m = sum / n, v = 0;
                for (int p = 0; p < pixels; p++) for (int j = 0; j < cg; j++) v += Math.pow(x[(s * pixels + p) * c + gr * cg + j] - m, 2);
                double rs = 1 / Math.sqrt(v / n + EPS);
                for (int p = 0; p < pixels; p++)
                    for (int j = 0; j < cg; j++) {
                        int i = (s * pixels + p) * c + gr * cg + j, ch = gr * cg + j;
                        double t = (x[i] - m) * rs * g[ch] + b[ch];
                        y[i] = silu ? t / (1 + Math.exp(-t)) : t;
                    }
            }
        return y;
    }

    /** y[r, o] = b[o] + Σ_i w[o, i]·x[r, i]. */
    static double[] linear(double[] x, int rows, int in, int out, double[] w, double[] b) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int i = 0; i < in; i++) s += w[o * in + i] * x[r * in + i];
                y[r * out + o] = s;
            }
        return y;
    }

    static double[] conv3(double[] x, int batch, int h, int w, int in, int out, double[] wt, double[] b) {
        double[] y = new double[batch * h * w * out];
        for (int s = 0; s < batch; s++)
            for (int oy = 0; oy < h; oy++)
                for (int ox = 0; ox < w; ox++)
                    for (int o = 0; o < out; o++) {
                        double acc = b[o];
                        for (int i = 0; i < in; i++)
                            for (int ky = 0; ky < 3; ky++)
                                for (int kx = 0; kx < 3; kx++) {
                                    int iy = oy + ky - 1, ix = ox + kx - 1;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                    acc += wt[((o * in + i) * 3 + ky) * 3 + kx] * x[((s * h + iy) * w + ix) * in + i];
                                }
                        y[((s * h + oy) * w + ox) * out + o] = acc;
                    }
        return y;
    }

    static double[] attention(Map<String, double[]> p, String pre, double[] x, int batch, int pixels, int c, int groups) {
        double[] t = groupNorm(x, batch, pixels, c, groups, p.get(pre + "group_norm.weight"), p.get(pre + "group_norm.bias"), false);
        int rows = batch * pixels;
        double[] q = linear(t, rows, c, c, p.get(pre + "to_q.weight"), p.get(pre + "to_q.bias"));
        double[] k = linear(t, rows, c, c, p.get(pre + "to_k.weight"), p.get(pre + "to_k.bias"));
        double[] v = linear(t, rows, c, c, p.get(pre + "to_v.weight"), p.get(pre + "to_v.bias"));
        double[] o = new double[rows * c];
        double scale = 1 / Math.sqrt(c);
        for (int s = 0; s < batch; s++)
            for (int i = 0; i < pixels; i++) {
                double[] sc = new double[pixels];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < pixels; j++) {
                    double d = 0;
                    for (int e = 0; e < c; e++) d += q[(s * pixels + i) * c + e] * k[(s * pixels + j) * c + e];
                    sc[j] = d * scale;
                    max = Math.max(max, sc[j]);
                }
                double z = 0;
                for (int j = 0; j < pixels; j++) z += sc[j] = Math.exp(sc[j] - max);
                for (int j = 0; j < pixels; j++)
                    for (int e = 0; e < c; e++) o[(s * pixels + i) * c + e] += sc[j] / z * v[(s * pixels + j) * c + e];
            }
        double[] y = linear(o, rows, c, c, p.get(pre + "to_out.0.weight"), p.get(pre + "to_out.0.bias"));
        for (int i = 0; i < y.length; i++) y[i] += x[i];
        return y;
    }

    static double[] resnet(Map<String, double[]> p, String pre, double[] x, int batch, int h, int w, int cin, int cout, int groups) {
        int px = h * w;
        double[] t = groupNorm(x, batch, px, cin, groups, p.get(pre + "norm1.weight"), p.get(pre + "norm1.bias"), true);
        double[] hh = conv3(t, batch, h, w, cin, cout, p.get(pre + "conv1.weight"), p.get(pre + "conv1.bias"));
        t = groupNorm(hh, batch, px, cout, groups, p.get(pre + "norm2.weight"), p.get(pre + "norm2.bias"), true);
        double[] y = conv3(t, batch, h, w, cout, cout, p.get(pre + "conv2.weight"), p.get(pre + "conv2.bias"));
        double[] skip = cin == cout ? x : linear(x, batch * px, cin, cout, p.get(pre + "conv_shortcut.weight"), p.get(pre + "conv_shortcut.bias"));
        for (int i = 0; i < y.length; i++) y[i] += skip[i];
        return y;
    }

    static double[] upsample(Map<String, double[]> p, String pre, double[] x, int batch, int h, int w, int c) {
        double[] u = new double[x.length * 4];
        for (int s = 0; s < batch; s++)
            for (int oy = 0; oy < 2 * h; oy++)
                for (int ox = 0; ox < 2 * w; ox++)
                    for (int ch = 0; ch < c; ch++)
                        u[((s * 2 * h + oy) * 2 * w + ox) * c + ch] = x[((s * h + oy / 2) * w + ox / 2) * c + ch];
        return conv3(u, batch, 2 * h, 2 * w, c, c, p.get(pre + "conv.weight"), p.get(pre + "conv.bias"));
    }

    interface Naive {
        double[] apply(Map<String, double[]> params, double[] x);
    }

    /** Runs the stage forward and backward and checks y, dx and every parameter gradient. */
    private void check(String what, Stage stage, Parameters ps, MapShape in, Naive naive, Random r) {
        Map<String, double[]> pd = new HashMap<>();
        for (Parameter p : ps) pd.put(p.name(), toDouble(p.value()));
        float[] x = gaussian(r, in.size(), 1.3);
        Stage.State st = stage.newState(in);
        VaeWorkspace ws = new VaeWorkspace();
        stage.forward(x, st, ws);
        double[] xd = toDouble(x);
        assertClose(what + " y", naive.apply(pd, xd), st.y, TOL);

        float[] dy = gaussian(r, st.out.size(), 1);
        double[] dyd = toDouble(dy);
        float[] dx = new float[x.length];
        ps.zeroGrad();
        stage.backward(x, st, dy, dx, ws);
        assertFiniteDifferences(what + " dx", xd, xs -> dot(naive.apply(pd, xs), dyd), dx, 30, r, TOL);
        for (Parameter p : ps) {
            double[] v = pd.get(p.name());
            if (p.name().endsWith("to_k.bias")) continue; // zero in exact arithmetic: checked below
            assertFiniteDifferences(what + " " + p.name(), v, vs -> {
                Map<String, double[]> m = new HashMap<>(pd);
                m.put(p.name(), vs);
                return dot(naive.apply(m, xd), dyd);
            }, p.grad(), 12, r, TOL);
        }
    }

    @Test
    void midBlockAttentionOddSizes() {
        Random r = new Random(5);
        // (batch, h, w, channels, groups): two pixels (with one, softmax is 1 and q, k get no gradient);
        // odd sizes; more keys than one 64-key tile of the attention backward.
        int[][] cases = {{1, 1, 2, 4, 2}, {2, 3, 5, 7, 7}, {1, 5, 7, 16, 4}, {2, 4, 33, 33, 3}};
        for (int[] c : cases) {
            Parameters ps = new Parameters();
            Map<String, float[]> drawn = new HashMap<>();
            AttentionStage stage = new AttentionStage(randomSource(r, drawn), ps, "a.", c[3], c[4]);
            MapShape in = new MapShape(c[0], c[1], c[2], c[3]);
            check("attention " + in, stage, ps, in, (p, x) -> attention(p, "a.", x, c[0], c[1] * c[2], c[3], c[4]), r);
            // softmax(q·kᵀ) ignores a constant added to every key's score: the key bias gets no gradient.
            double kb = org.ovis4j.train.testing.TrainingGoldens.maxAbs(ps.get("a.to_k.bias").grad());
            double scale = org.ovis4j.train.testing.TrainingGoldens.maxAbs(ps.get("a.to_q.bias").grad());
            org.junit.jupiter.api.Assertions.assertTrue(kb <= 1e-5 * scale, "key bias gradient " + kb + " vs " + scale);
        }
    }

    @Test
    void resnetWithAndWithoutShortcut() {
        Random r = new Random(6);
        int[][] cases = {{1, 1, 1, 4, 4, 2}, {2, 3, 5, 6, 6, 3}, {1, 5, 7, 4, 8, 4}, {2, 7, 3, 9, 6, 3}};
        for (int[] c : cases) {
            Parameters ps = new Parameters();
            ResnetStage stage = new ResnetStage(randomSource(r, new HashMap<>()), ps, "r.", c[3], c[4], c[5]);
            MapShape in = new MapShape(c[0], c[1], c[2], c[3]);
            check("resnet " + in + "->" + c[4], stage, ps, in, (p, x) -> resnet(p, "r.", x, c[0], c[1], c[2], c[3], c[4], c[5]), r);
        }
    }

    /**
     * With one channel per group in norm2, conv1's bias shifts each normalised channel by a constant
     * the norm removes again: its gradient is zero in exact arithmetic (spec 9.4), rounding noise here.
     */
    @Test
    void biasBeforeOneChannelGroupsGetsNoGradient() {
        Random r = new Random(8);
        Parameters ps = new Parameters();
        ResnetStage stage = new ResnetStage(randomSource(r, new HashMap<>()), ps, "r.", 6, 3, 3);
        MapShape in = new MapShape(2, 5, 7, 6);
        Stage.State st = stage.newState(in);
        VaeWorkspace ws = new VaeWorkspace();
        float[] x = gaussian(r, in.size(), 1);
        stage.forward(x, st, ws);
        stage.backward(x, st, gaussian(r, st.out.size(), 1), new float[x.length], ws);
        double bias = org.ovis4j.train.testing.TrainingGoldens.maxAbs(ps.get("r.conv1.bias").grad());
        double weight = org.ovis4j.train.testing.TrainingGoldens.maxAbs(ps.get("r.conv1.weight").grad());
        org.junit.jupiter.api.Assertions.assertTrue(bias <= 1e-5 * weight, "conv1 bias gradient " + bias + " vs weights' " + weight);
    }

    @Test
    void upsampler() {
        Random r = new Random(7);
        int[][] cases = {{1, 1, 1, 3}, {2, 3, 5, 4}, {1, 4, 7, 7}};
        for (int[] c : cases) {
            Parameters ps = new Parameters();
            ConvLayer conv = new ConvLayer(randomSource(r, new HashMap<>()), ps, "u.conv",
                    org.ovis4j.train.ops.Conv2dOp.same(c[3], c[3], 3), false);
            UpsampleStage stage = new UpsampleStage(conv);
            MapShape in = new MapShape(c[0], c[1], c[2], c[3]);
            check("upsample " + in, stage, ps, in, (p, x) -> upsample(p, "u.", x, c[0], c[1], c[2], c[3]), r);
        }
    }
}
