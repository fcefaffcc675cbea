package org.ovis4j.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.AttentionKernel;
import org.ovis4j.core.parallel.Parallel;

/**
 * OneDnnAttention against softmax attention in double precision over the same inputs rounded to the
 * operand type (by design: Q, K and V are rounded once, like PyTorch's bf16 attention). The f32
 * variant runs wherever oneDNN loads and checks the whole code path; the bf16 one where the CPU has
 * bf16 (elsewhere oneDNN has no bf16 matmul).
 *
 * <p>Bound per output element o = Σ_j p_j·v_j, from what remains after that rounding:
 * <ul>
 * <li>scores: products of bf16 values are exact in f32 (of f32 values off by 2^-24); the f32 sum of
 * D of them is off by at most (D + 1)·2^-24·Σ|q·k|, and the scaling and shift add 2^-23·|s|·scale, so each scaled score moves by at
 * most Δ, and each softmax weight by the factor e^{±2Δ}: |p' − p| ≤ (e^{2Δ} − 1)·p;</li>
 * <li>exponentials rounded to the operand type (u = 2^-8 relative for bf16, 0 for f32; the sum is
 * kept in f32 unrounded), and the vectorised exp (2 ulp): a relative (u + 2^-22) per weight;</li>
 * <li>f32 products and accumulation of the keys in E·V: (cols + 1)·2^-24 relative to Σ p|v|.</li>
 * </ul>
 * So |o − ref| ≤ Σ_j p_j|v_j|·(e^{2Δ} − 1 + e^{2Δ}(u + 2^-22) + (cols + 1)·2^-24) + 1e-7. With u = 2^-8
 * that is ~0.4% of Σ p|v|, far below the size of an output here, so a wrong head, key range, mask
 * or offset fails it.
 */
class OneDnnAttentionTest {
    /** A kernel under test and its operand rounding (u = 0 for f32). */
    record Variant(AttentionKernel kernel, boolean bf16) {
        double u() {
            return bf16 ? 1.0 / 256 : 0;
        }

        double round(float x) {
            return bf16 ? Float.intBitsToFloat(Bf16.round(x) << 16) : x;
        }
    }

    private static final List<Variant> VARIANTS = new ArrayList<>();

    @BeforeAll
    static void load() {
        try {
            VARIANTS.add(new Variant(OneDnnMatmul.createOnAnyCpu().attentionFloat32(), false));
        } catch (OvisException e) {
            return; // the library does not load; OneDnnMatmulTest asserts the reason
        }
        try {
            VARIANTS.add(new Variant(OneDnnMatmul.create().attention(), true));
        } catch (OvisException e) {
            // no bf16 on this CPU: only the f32 variant runs
        }
    }

    static float[] random(SplittableRandom r, int n, double amp) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((r.nextDouble() * 2 - 1) * amp);
        return a;
    }

    /** Checks out (rows at oOff, stride ldo) against the bound, for inputs laid out at offsets and strides. */
    static void check(Variant var, float[] q, int qOff, int ldq, float[] k, int kOff, int ldk, float[] v, int vOff, int ldv,
                      float[] out, int oOff, int ldo, int lq, int lk, int hq, int hkv, int d, boolean causal, int valid) {
        double scale = 1 / Math.sqrt(d);
        for (int h = 0; h < hq; h++) {
            int kh = h / (hq / hkv);
            for (int i = 0; i < lq; i++) {
                int keys = Math.min(Math.min(valid, lk), causal ? i + 1 : lk);
                double[] s = new double[keys];
                double max = Double.NEGATIVE_INFINITY, delta = 0;
                for (int j = 0; j < keys; j++) {
                    double t = 0, abs = 0;
                    for (int x = 0; x < d; x++) {
                        double p = var.round(q[qOff + i * ldq + h * d + x]) * var.round(k[kOff + j * ldk + kh * d + x]);
                        t += p;
                        abs += Math.abs(p);
                    }
                    s[j] = t * scale;
                    max = Math.max(max, s[j]);
                    delta = Math.max(delta, scale * ((d + 1) * 0x1p-24 * abs + 0x1p-23 * Math.abs(t)));
                }
                double sum = 0;
                for (int j = 0; j < keys; j++) sum += s[j] = Math.exp(s[j] - max);
                double grow = Math.exp(2 * delta);
                for (int x = 0; x < d; x++) {
                    double ref = 0, mass = 0;
                    for (int j = 0; j < keys; j++) {
                        double vv = var.round(v[vOff + j * ldv + kh * d + x]);
                        ref += s[j] / sum * vv;
                        mass += s[j] / sum * Math.abs(vv);
                    }
                    double bound = mass * (grow - 1 + grow * (var.u() + 0x1p-22) + (keys + 1) * 0x1p-24) + 1e-7;
                    float got = out[oOff + i * ldo + h * d + x];
                    assertEquals(ref, got, bound, (var.bf16() ? "bf16" : "f32") + " head " + h + " row " + i + " col " + x + " (Lq " + lq + ", Lk " + lk + ")");
                }
            }
        }
    }

    @Test
    void matchesRoundedReferenceWithGqaCausalAndPadding() {
        assumeTrue(!VARIANTS.isEmpty(), "oneDNN does not load here; OneDnnMatmulTest asserts why");
        // {Lq, Lk, Hq, Hkv, D}: tiny, grouped heads, head dims of the models (128 text/DiT, 512 VAE),
        // more keys than one task's score block (rows per task shrink), a short query block.
        int[][] shapes = {{1, 1, 1, 1, 16}, {7, 7, 4, 2, 16}, {33, 33, 2, 2, 128}, {300, 300, 2, 1, 24},
                {5, 600, 1, 1, 8}, {270, 270, 1, 1, 512}, {40, 5000, 2, 2, 32}};
        for (Variant var : VARIANTS) {
            SplittableRandom r = new SplittableRandom(11);
            for (int[] s : shapes)
                for (boolean causal : new boolean[] {false, true}) {
                    int lq = s[0], lk = s[1], hq = s[2], hkv = s[3], d = s[4];
                    if (causal && lq != lk) continue;
                    int valid = Math.max(1, lk - 3);
                    // Scores of a few units: peaked enough that outputs are well above the bound.
                    double amp = Math.sqrt(3.0 * Math.sqrt(d) / d) * 1.5;
                    float[] q = random(r, lq * hq * d, amp), k = random(r, lk * hkv * d, amp), v = random(r, lk * hkv * d, 1);
                    float[] out = new float[lq * hq * d];
                    var.kernel().attend(q, 0, hq * d, k, 0, hkv * d, v, 0, hkv * d, out, 0, hq * d, lq, lk, hq, hkv, d,
                            (float) (1 / Math.sqrt(d)), causal, valid);
                    check(var, q, 0, hq * d, k, 0, hkv * d, v, 0, hkv * d, out, 0, hq * d, lq, lk, hq, hkv, d, causal, valid);
                }
        }
    }

    @Test
    void honoursOffsetsAndStridesAndLeavesTheRestAlone() {
        assumeTrue(!VARIANTS.isEmpty(), "oneDNN does not load here");
        for (Variant var : VARIANTS) {
            SplittableRandom r = new SplittableRandom(12);
            int lq = 50, lk = 70, hq = 4, hkv = 2, d = 32;
            int ldq = hq * d + 5, ldk = hkv * d + 3, ldv = hkv * d + 7, ldo = hq * d + 9;
            int qOff = 13, kOff = 2, vOff = 5, oOff = 17;
            float[] q = random(r, qOff + lq * ldq, 1), k = random(r, kOff + lk * ldk, 1), v = random(r, vOff + lk * ldv, 1);
            float[] out = random(r, oOff + lq * ldo, 1), before = out.clone();
            var.kernel().attend(q, qOff, ldq, k, kOff, ldk, v, vOff, ldv, out, oOff, ldo, lq, lk, hq, hkv, d,
                    (float) (1 / Math.sqrt(d)), false, lk);
            check(var, q, qOff, ldq, k, kOff, ldk, v, vOff, ldv, out, oOff, ldo, lq, lk, hq, hkv, d, false, lk);
            for (int i = 0; i < out.length; i++) {
                int rel = i - oOff;
                boolean written = rel >= 0 && rel % ldo < hq * d && rel / ldo < lq;
                if (!written) assertEquals(before[i], out[i], 0f, "element " + i + " outside the output rows");
            }
        }
    }

    @Test
    void tasksOfAnOuterForEachGiveTheSameResult() {
        assumeTrue(!VARIANTS.isEmpty(), "oneDNN does not load here");
        for (Variant var : VARIANTS) {
            SplittableRandom r = new SplittableRandom(13);
            int lq = 64, lk = 64, h = 2, d = 64;
            float[] q = random(r, lq * h * d, 1), k = random(r, lk * h * d, 1), v = random(r, lk * h * d, 1);
            float[] alone = new float[lq * h * d];
            var.kernel().attend(q, 0, h * d, k, 0, h * d, v, 0, h * d, alone, 0, h * d, lq, lk, h, h, d, 0.125f, true, lk);
            float[][] nested = new float[4][lq * h * d];
            Parallel.forEach(4, i -> var.kernel().attend(q, 0, h * d, k, 0, h * d, v, 0, h * d, nested[i], 0, h * d, lq, lk, h, h, d,
                    0.125f, true, lk));
            for (float[] n : nested) for (int i = 0; i < n.length; i++) assertEquals(alone[i], n[i], 0f, "element " + i);
        }
    }

    @Test
    void theBackendsAttentionIsTheBf16One() {
        assumeTrue(VARIANTS.size() == 2, "no bf16 on this CPU");
        assertSame(VARIANTS.get(1).kernel(), OneDnnMatmul.create().attention());
        assertTrue(VARIANTS.get(1).kernel() instanceof OneDnnAttention);
    }
}
