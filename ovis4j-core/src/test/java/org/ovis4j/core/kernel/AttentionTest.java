package org.ovis4j.core.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AttentionTest {
    static double[] naive(float[] q, float[] k, float[] v, int lq, int lk, int hq, int hkv, int d, boolean causal, int valid) {
        double[] out = new double[lq * hq * d];
        double scale = 1 / Math.sqrt(d);
        for (int h = 0; h < hq; h++) {
            int kh = h / (hq / hkv);
            for (int i = 0; i < lq; i++) {
                int keys = Math.min(valid, causal ? i + 1 : lk);
                double[] s = new double[keys];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < keys; j++) {
                    double t = 0;
                    for (int x = 0; x < d; x++) t += (double) q[(i * hq + h) * d + x] * k[(j * hkv + kh) * d + x];
                    s[j] = t * scale;
                    max = Math.max(max, s[j]);
                }
                for (int j = 0; j < keys; j++) sum += s[j] = Math.exp(s[j] - max);
                for (int j = 0; j < keys; j++)
                    for (int x = 0; x < d; x++) out[(i * hq + h) * d + x] += s[j] / sum * v[(j * hkv + kh) * d + x];
            }
        }
        return out;
    }

    @Test
    void matchesNaiveWithGqaCausalAndPadding() {
        Random r = new Random(3);
        int[][] shapes = {{1, 1, 1, 1, 16}, {7, 7, 4, 2, 16}, {33, 33, 2, 2, 128}, {300, 300, 2, 1, 24}, {5, 600, 1, 1, 8}};
        for (int[] s : shapes)
            for (boolean causal : new boolean[] {false, true}) {
                int lq = s[0], lk = s[1], hq = s[2], hkv = s[3], d = s[4];
                if (causal && lq != lk) continue;
                int valid = Math.max(1, lk - 3);
                float[] q = GemmTest.random(r, lq * hq * d), k = GemmTest.random(r, lk * hkv * d), v = GemmTest.random(r, lk * hkv * d);
                float[] out = new float[lq * hq * d];
                Attention.JAVA.attend(q, hq * d, k, hkv * d, v, hkv * d, out, hq * d, lq, lk, hq, hkv, d,
                        (float) (1 / Math.sqrt(d)), causal, valid);
                double[] expected = naive(q, k, v, lq, lk, hq, hkv, d, causal, valid);
                for (int i = 0; i < out.length; i++) assertEquals(expected[i], out[i], 2e-5, "element " + i);
            }
    }

    /**
     * attendJava over stacked samples gives each sample's attention bit for bit, and writes each row's
     * log-sum-exp log Σ_j exp(scale·q_i·k_j). Gaussian inputs, d ≤ 24: scores below about 10 in size, each
     * with float error below about d·u·Σ|q·k|·scale ≈ 1e-5, and the sum's relative error of (len + few)·u
     * adds as much again to the log, so 1e-4 is ample and a wrong row, head or sample is off by O(1).
     */
    @Test
    void attendJavaStacksSamplesAndWritesLogSumExp() {
        Random r = new Random(9);
        int[][] shapes = {{1, 1, 1, 1, 16}, {3, 7, 4, 2, 16}, {2, 300, 2, 1, 24}}; // samples, len, hq, hkv, d
        for (int[] sh : shapes) {
            int samples = sh[0], len = sh[1], hq = sh[2], hkv = sh[3], d = sh[4];
            for (boolean causal : new boolean[] {false, true}) {
                int qn = len * hq * d, kn = len * hkv * d;
                float[] q = GemmTest.random(r, samples * qn), k = GemmTest.random(r, samples * kn), v = GemmTest.random(r, samples * kn);
                float[] out = new float[samples * qn], lse = new float[samples * hq * len];
                float scale = (float) (1 / Math.sqrt(d));
                Attention.attendJava(q, 0, hq * d, k, 0, hkv * d, v, 0, hkv * d, out, 0, hq * d, samples, len, len, hq, hkv, d,
                        scale, causal, len, lse, 0);
                for (int s = 0; s < samples; s++) {
                    float[] one = new float[qn];
                    Attention.JAVA.attend(q, s * qn, hq * d, k, s * kn, hkv * d, v, s * kn, hkv * d, one, 0, hq * d, len, len, hq,
                            hkv, d, scale, causal, len);
                    assertArrayEquals(one, java.util.Arrays.copyOfRange(out, s * qn, (s + 1) * qn), "sample " + s);
                    for (int h = 0; h < hq; h++)
                        for (int i = 0; i < len; i++) {
                            double sum = 0;
                            for (int j = 0; j < (causal ? i + 1 : len); j++) {
                                double dot = 0;
                                for (int t = 0; t < d; t++)
                                    dot += (double) q[s * qn + (i * hq + h) * d + t] * k[s * kn + (j * hkv + h / (hq / hkv)) * d + t];
                                sum += Math.exp(dot * scale);
                            }
                            assertEquals(Math.log(sum), lse[(s * hq + h) * len + i], 1e-4, "lse " + s + "," + h + "," + i);
                        }
                }
            }
        }
    }
}
