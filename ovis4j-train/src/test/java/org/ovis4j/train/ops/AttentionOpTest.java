package org.ovis4j.train.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link AttentionOp} against a double-precision reference that carries, element by element, a first-order
 * bound on the float32 kernels' rounding error; the reference's own backward against central finite
 * differences; and the same bits for 1 and 2 threads, run after run.
 *
 * <p>How the bounds are built (u = 2⁻²⁴, the float32 unit roundoff; a float sum of n terms is within
 * n·u·Σ|terms| of the exact one, Higham's γ_n, whatever the order or fma):
 * <ul>
 * <li>score s_ij = scale·q_i·k_j: error εs_ij = (d + 1)·u·scale·Σ_t |q_it·k_jt| (d products, one scaling);
 * <li>lse_i = log Σ_j exp(s_ij): the sum of len positive terms has relative error len·u plus its terms'
 *     (max_j εs_ij, the exp's 2 ulp, the subtraction of the running max, u·|s_ij − lse_i|, and the rescaling
 *     when the max moves), the log and the add of the max u·|lse_i| each: ε_lse_i = max_j εs_ij
 *     + u·(len + 8 + 2·|lse_i| + max_j |s_ij − lse_i|);
 * <li>p_ij = exp(s_ij − lse_i), relative error ε_p_ij = εs_ij + ε_lse_i + u·(|s_ij − lse_i| + 4);
 * <li>a product a·b summed over n terms errs by Σ_n |a|·|b|·(ε_a + (n + 1)·u) + Σ_n e_a·|b|, so out, dV,
 *     dP, D, dS = scale·p∘(dP − D), dQ and dK get their bounds from their operands' in the order the
 *     kernel computes them (D from the float out, with out's bound); dQ's sums add at most 16 chunk
 *     partials, so its n is len + 16.
 * </ul>
 * The tests allow twice that first-order bound (second-order terms and the handful of roundings not listed,
 * such as the forward's final 1/sum). Real errors sit well inside it (random signs cancel, so they grow as
 * √n, not n); a wrong index, a missing scale or a lost tile gives errors of the size of the values
 * themselves, far outside.
 */
class AttentionOpTest {
    private static final double U = 0x1p-24;

    /** {samples, len, heads, headDim, amplitude of q}; amplitude 6 makes the softmax peaked (scores up to ±10). */
    private static final int[][] SHAPES = {
            {1, 1, 1, 16, 1}, {2, 7, 2, 16, 1}, {2, 11, 2, 16, 1}, {1, 33, 3, 24, 1}, {2, 129, 1, 128, 1},
            {1, 129, 2, 16, 6}, {2, 70, 8, 16, 1}, {1, 65, 1, 512, 1}, {1, 7, 3, 128, 1}, {2, 33, 1, 24, 6}};

    /** The double reference: values, their float32 error bounds, and the forward's float lse for backward. */
    record Reference(double[] out, double[] outTol, double[] lse, double[] lseTol,
                     double[] dq, double[] dqTol, double[] dk, double[] dkTol, double[] dv, double[] dvTol) {}

    /**
     * Forward and backward in double, straight from the definitions (one query row at a time, whole score
     * rows), with the error bounds described in the class comment. {@code o} is the float out whose dot with dO
     * the kernel takes for D (pass null to use the exact one, as the finite-difference check does).
     */
    static Reference reference(double[] q, double[] k, double[] v, double[] g, int samples, int len, int heads, int d,
                               float[] o) {
        return reference(q, k, v, g, samples, len, heads, heads, d, false, o);
    }

    /**
     * As above with kvHeads key/value heads (query head h reads kv head h / (heads / kvHeads); k, v, dk, dv are
     * [samples * len, kvHeads * d]) and, with {@code causal}, query i seeing keys 0..i only (masked probabilities
     * are exactly 0). dK and dV sum over the group's query heads: their sums have group·len terms.
     */
    static Reference reference(double[] q, double[] k, double[] v, double[] g, int samples, int len, int heads, int kvHeads,
                               int d, boolean causal, float[] o) {
        int ld = heads * d, ldkv = kvHeads * d, n = samples * len * ld, nkv = samples * len * ldkv, group = heads / kvHeads;
        double scale = (float) (1.0 / Math.sqrt(d));
        double[] out = new double[n], outTol = new double[n], lse = new double[samples * heads * len],
                lseTol = new double[lse.length];
        double[] dq = new double[n], dqTol = new double[n], dk = new double[nkv], dkTol = new double[nkv],
                dv = new double[nkv], dvTol = new double[nkv];
        double[][] p = new double[len][len], eP = new double[len][len], ds = new double[len][len], eDs = new double[len][len];
        double[] delta = new double[len], eDelta = new double[len];
        for (int s = 0; s < samples; s++)
            for (int h = 0; h < heads; h++) {
                int base = s * len * ld + h * d, kvBase = s * len * ldkv + h / group * d;
                for (int i = 0; i < len; i++) {
                    int seen = causal ? i + 1 : len;
                    double[] sc = new double[len], eS = new double[len];
                    double max = Double.NEGATIVE_INFINITY, maxES = 0;
                    for (int j = 0; j < seen; j++) {
                        double dot = 0, abs = 0;
                        for (int t = 0; t < d; t++) {
                            dot += q[base + i * ld + t] * k[kvBase + j * ldkv + t];
                            abs += Math.abs(q[base + i * ld + t] * k[kvBase + j * ldkv + t]);
                        }
                        sc[j] = dot * scale;
                        eS[j] = (d + 1) * U * abs * scale;
                        max = Math.max(max, sc[j]);
                        maxES = Math.max(maxES, eS[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < seen; j++) sum += Math.exp(sc[j] - max);
                    double l = max + Math.log(sum), range = 0;
                    for (int j = 0; j < seen; j++) range = Math.max(range, Math.abs(sc[j] - l));
                    double eL = maxES + U * (len + 8 + 2 * Math.abs(l) + range);
                    int li = (s * heads + h) * len + i;
                    lse[li] = l;
                    lseTol[li] = eL;
                    for (int j = 0; j < len; j++) {
                        p[i][j] = j < seen ? Math.exp(sc[j] - l) : 0;
                        eP[i][j] = j < seen ? eS[j] + eL + U * (Math.abs(sc[j] - l) + 4) : 0;
                    }
                    for (int t = 0; t < d; t++) {
                        double acc = 0, err = 0;
                        for (int j = 0; j < len; j++) {
                            double term = p[i][j] * v[kvBase + j * ldkv + t];
                            acc += term;
                            err += Math.abs(term) * (eP[i][j] + (len + 2) * U);
                        }
                        out[base + i * ld + t] = acc;
                        outTol[base + i * ld + t] = err;
                    }
                }
                // D_i = dO_i·O_i with the O the kernel reads.
                for (int i = 0; i < len; i++) {
                    double acc = 0, err = 0;
                    for (int t = 0; t < d; t++) {
                        int x = base + i * ld + t;
                        double oi = o == null ? out[x] : o[x];
                        acc += g[x] * oi;
                        err += (d + 1) * U * Math.abs(g[x] * oi) + Math.abs(g[x]) * outTol[x];
                    }
                    delta[i] = acc;
                    eDelta[i] = err;
                }
                for (int i = 0; i < len; i++)
                    for (int j = 0; j < len; j++) {
                        double dp = 0, abs = 0;
                        for (int t = 0; t < d; t++) {
                            dp += g[base + i * ld + t] * v[kvBase + j * ldkv + t];
                            abs += Math.abs(g[base + i * ld + t] * v[kvBase + j * ldkv + t]);
                        }
                        double diff = dp - delta[i];
                        ds[i][j] = scale * p[i][j] * diff;
                        eDs[i][j] = scale * p[i][j] * ((d + 1) * U * abs + eDelta[i] + Math.abs(diff) * (eP[i][j] + 3 * U));
                    }
                for (int t = 0; t < d; t++) {
                    for (int j = 0; j < len; j++) {
                        double aV = 0, eV = 0, aK = 0, eK = 0;
                        for (int i = 0; i < len; i++) {
                            double gi = g[base + i * ld + t], qi = q[base + i * ld + t];
                            aV += p[i][j] * gi;
                            eV += Math.abs(p[i][j] * gi) * (eP[i][j] + (group * len + 1) * U);
                            aK += ds[i][j] * qi;
                            eK += (eDs[i][j] + (group * len + 1) * U * Math.abs(ds[i][j])) * Math.abs(qi);
                        }
                        // the group's heads add into one kv head
                        dv[kvBase + j * ldkv + t] += aV;
                        dvTol[kvBase + j * ldkv + t] += eV;
                        dk[kvBase + j * ldkv + t] += aK;
                        dkTol[kvBase + j * ldkv + t] += eK;
                    }
                    for (int i = 0; i < len; i++) {
                        double aQ = 0, eQ = 0;
                        for (int j = 0; j < len; j++) {
                            double kj = k[kvBase + j * ldkv + t];
                            aQ += ds[i][j] * kj;
                            eQ += (eDs[i][j] + (len + 17) * U * Math.abs(ds[i][j])) * Math.abs(kj);
                        }
                        dq[base + i * ld + t] = aQ;
                        dqTol[base + i * ld + t] = eQ;
                    }
                }
            }
        return new Reference(out, outTol, lse, lseTol, dq, dqTol, dk, dkTol, dv, dvTol);
    }

    static float[] random(Random r, int n, double amplitude) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (amplitude * (2 * r.nextDouble() - 1));
        return x;
    }

    static double[] widen(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i];
        return y;
    }

    /** Worst |got − want| / tol over the tensor, failing if any element exceeds 2·tol. */
    static double check(String what, float[] got, double[] want, double[] tol) {
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double err = Math.abs(got[i] - want[i]), bound = 2 * tol[i] + Double.MIN_NORMAL;
            if (!(err <= bound))
                throw new AssertionError(what + "[" + i + "]: " + got[i] + " vs " + want[i] + ", error " + err + " > bound " + bound);
            worst = Math.max(worst, err / bound);
        }
        return worst;
    }

    @Test
    void forwardAndBackwardMatchDoubleReference() {
        Random r = new Random(11);
        for (int[] sh : SHAPES) {
            int samples = sh[0], len = sh[1], heads = sh[2], d = sh[3], n = samples * len * heads * d;
            float[] q = random(r, n, sh[4]), k = random(r, n, 1), v = random(r, n, 1), g = random(r, n, 1);
            float[] out = new float[n], lse = new float[samples * heads * len];
            AttentionOp.forward(q, k, v, samples, len, heads, d, out, lse);
            float[] dq = new float[n], dk = new float[n], dv = new float[n];
            // Stale values must not leak in: the gradients are overwritten, not accumulated.
            java.util.Arrays.fill(dq, 7f);
            java.util.Arrays.fill(dk, -3f);
            java.util.Arrays.fill(dv, 5f);
            AttentionOp.backward(q, k, v, out, lse, g, samples, len, heads, d, dq, dk, dv);
            Reference ref = reference(widen(q), widen(k), widen(v), widen(g), samples, len, heads, d, out);
            String at = samples + "x" + len + "x" + heads + "x" + d + " amp " + sh[4] + " ";
            double[] worst = {
                    check(at + "out", out, ref.out, ref.outTol), check(at + "lse", lse, ref.lse, ref.lseTol),
                    check(at + "dq", dq, ref.dq, ref.dqTol), check(at + "dk", dk, ref.dk, ref.dkTol),
                    check(at + "dv", dv, ref.dv, ref.dvTol)};
            System.out.printf("%s worst error / bound: out %.3f lse %.3f dq %.3f dk %.3f dv %.3f%n", at,
                    worst[0], worst[1], worst[2], worst[3], worst[4]);
        }
    }

    /** {samples, len, heads, kvHeads, headDim, amplitude of q}: Qwen3's causal grouped-query shapes, blocks cut mid-way. */
    private static final int[][] CAUSAL_SHAPES = {
            {1, 1, 1, 1, 16, 1}, {2, 7, 4, 2, 16, 1}, {1, 33, 3, 1, 24, 1}, {2, 129, 2, 2, 32, 1}, {1, 70, 8, 2, 16, 6},
            {3, 65, 2, 1, 128, 1}, {1, 300, 2, 1, 16, 1}};

    @Test
    void causalGroupedQueryMatchesDoubleReference() {
        Random r = new Random(13);
        for (int[] sh : CAUSAL_SHAPES) {
            int samples = sh[0], len = sh[1], heads = sh[2], kvHeads = sh[3], d = sh[4];
            int n = samples * len * heads * d, nkv = samples * len * kvHeads * d;
            float[] q = random(r, n, sh[5]), k = random(r, nkv, 1), v = random(r, nkv, 1), g = random(r, n, 1);
            float[] out = new float[n], lse = new float[samples * heads * len];
            AttentionOp.forward(q, k, v, samples, len, heads, kvHeads, d, true, out, lse);
            float[] dq = new float[n], dk = new float[nkv], dv = new float[nkv];
            java.util.Arrays.fill(dq, 7f);
            java.util.Arrays.fill(dk, -3f);
            java.util.Arrays.fill(dv, 5f);
            AttentionOp.backward(q, k, v, out, lse, g, samples, len, heads, kvHeads, d, true, dq, dk, dv);
            Reference ref = reference(widen(q), widen(k), widen(v), widen(g), samples, len, heads, kvHeads, d, true, out);
            String at = "causal " + samples + "x" + len + "x" + heads + "/" + kvHeads + "x" + d + " amp " + sh[5] + " ";
            double[] worst = {
                    check(at + "out", out, ref.out, ref.outTol), check(at + "lse", lse, ref.lse, ref.lseTol),
                    check(at + "dq", dq, ref.dq, ref.dqTol), check(at + "dk", dk, ref.dk, ref.dkTol),
                    check(at + "dv", dv, ref.dv, ref.dvTol)};
            System.out.printf("%s worst error / bound: out %.3f lse %.3f dq %.3f dk %.3f dv %.3f%n", at,
                    worst[0], worst[1], worst[2], worst[3], worst[4]);
        }
    }

    /** The causal grouped-query reference's backward against central differences (as the test below, which explains h). */
    @Test
    void causalGroupedQueryReferenceMatchesFiniteDifferences() {
        Random r = new Random(6);
        int[][] shapes = {{1, 1, 2, 1, 16}, {2, 5, 4, 2, 8}};
        double h = 1e-5;
        for (int[] sh : shapes) {
            int samples = sh[0], len = sh[1], heads = sh[2], kvHeads = sh[3], d = sh[4];
            int n = samples * len * heads * d, nkv = samples * len * kvHeads * d;
            double[] q = widen(random(r, n, 2)), k = widen(random(r, nkv, 1)), v = widen(random(r, nkv, 1)), g = widen(random(r, n, 1));
            Reference ref = reference(q, k, v, g, samples, len, heads, kvHeads, d, true, null);
            double[][] inputs = {q, k, v};
            double[][] grads = {ref.dq, ref.dk, ref.dv};
            for (int which = 0; which < 3; which++) {
                double[] x = inputs[which];
                for (int e = 0; e < x.length; e++) {
                    double keep = x[e];
                    x[e] = keep + h;
                    double plus = loss(reference(q, k, v, g, samples, len, heads, kvHeads, d, true, null).out, g);
                    x[e] = keep - h;
                    double minus = loss(reference(q, k, v, g, samples, len, heads, kvHeads, d, true, null).out, g);
                    x[e] = keep;
                    assertEquals((plus - minus) / (2 * h), grads[which][e], 1e-8, "causal input " + which + " element " + e);
                }
            }
        }
    }

    /**
     * The reference backward against central differences of its forward, L = Σ out∘dO, all in double.
     * With h = 1e-5 the truncation error is h²/6·|L'''| ≈ 2e-11 (inputs and scale at most 1, so the third
     * derivatives are O(1)) and the cancellation error ε·|L|/h ≈ 1e-16·10/1e-5 = 1e-10; 1e-8 leaves a wide
     * margin and is still far below the gradients (≈ 1e-2 to 1).
     */
    @Test
    void referenceBackwardMatchesFiniteDifferences() {
        Random r = new Random(5);
        int[][] shapes = {{1, 1, 1, 16}, {2, 7, 2, 16}, {1, 5, 3, 24}};
        double h = 1e-5;
        for (int[] sh : shapes) {
            int samples = sh[0], len = sh[1], heads = sh[2], d = sh[3], n = samples * len * heads * d;
            double[] q = widen(random(r, n, 2)), k = widen(random(r, n, 1)), v = widen(random(r, n, 1)), g = widen(random(r, n, 1));
            Reference ref = reference(q, k, v, g, samples, len, heads, d, null);
            double[][] inputs = {q, k, v};
            double[][] grads = {ref.dq, ref.dk, ref.dv};
            for (int which = 0; which < 3; which++) {
                double[] x = inputs[which];
                for (int e = 0; e < n; e++) {
                    double keep = x[e];
                    x[e] = keep + h;
                    double plus = loss(reference(q, k, v, g, samples, len, heads, d, null).out, g);
                    x[e] = keep - h;
                    double minus = loss(reference(q, k, v, g, samples, len, heads, d, null).out, g);
                    x[e] = keep;
                    double fd = (plus - minus) / (2 * h);
                    assertEquals(fd, grads[which][e], 1e-8, "input " + which + " element " + e + " of " + samples + "x" + len + "x" + heads + "x" + d);
                }
            }
        }
    }

    private static double loss(double[] out, double[] g) {
        double l = 0;
        for (int i = 0; i < out.length; i++) l += out[i] * g[i];
        return l;
    }

    /**
     * Shapes for the determinism check: many keys in several chunks (dQ summed from copies of it), and many
     * heads in one chunk each; the small pair keeps the interpreted child JVM to a few seconds.
     */
    private static final int[][] DETERMINISM_SHAPES = {{1, 300, 1, 24}, {2, 100, 8, 16}};
    private static final int[][] DETERMINISM_SHAPES_SMALL = {{1, 130, 1, 24}, {2, 20, 8, 16}};

    /** SHA-256 over the raw bits of out, lse, dq, dk, dv for the given shapes. */
    static String digest(int[][] shapes) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            Random r = new Random(42);
            for (int[] sh : shapes) {
                int samples = sh[0], len = sh[1], heads = sh[2], d = sh[3], n = samples * len * heads * d;
                float[] q = random(r, n, 3), k = random(r, n, 1), v = random(r, n, 1), g = random(r, n, 1);
                float[] out = new float[n], lse = new float[samples * heads * len], dq = new float[n], dk = new float[n], dv = new float[n];
                AttentionOp.forward(q, k, v, samples, len, heads, d, out, lse);
                AttentionOp.backward(q, k, v, out, lse, g, samples, len, heads, d, dq, dk, dv);
                for (float[] a : new float[][] {out, lse, dq, dk, dv})
                    for (float x : a) {
                        int bits = Float.floatToRawIntBits(x);
                        md.update(new byte[] {(byte) bits, (byte) (bits >> 8), (byte) (bits >> 16), (byte) (bits >> 24)});
                    }
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Entry point of the child JVMs of {@link #sameBitsForAnyThreadCountAndRun}: {@code small} or {@code full}. */
    public static void main(String[] args) {
        System.out.println("digest " + digest(args[0].equals("small") ? DETERMINISM_SHAPES_SMALL : DETERMINISM_SHAPES));
    }

    /**
     * The pool's size is fixed per JVM ({@code -Dovis4j.threads}), so 1 and 2 threads run in child JVMs
     * (this one uses the default, every processor); an interpreted child (-Xint) is checked against this
     * JVM's compiled code too, the difference that once told {@code reduceLanes} apart. Each child prints
     * the digest of {@link #digest}; all must equal this JVM's, which must not change from run to run.
     */
    @Test
    void sameBitsForAnyThreadCountAndRun() throws Exception {
        String full = digest(DETERMINISM_SHAPES), small = digest(DETERMINISM_SHAPES_SMALL);
        for (int i = 0; i < 3; i++) digest(DETERMINISM_SHAPES); // let the JIT compile the kernels
        assertEquals(full, digest(DETERMINISM_SHAPES), "a later run in this JVM");
        assertEquals(small, digest(DETERMINISM_SHAPES_SMALL), "a later run in this JVM");
        assertEquals(full, child("1", false, "full"), "1 thread");
        assertEquals(full, child("2", false, "full"), "2 threads");
        assertEquals(small, child("2", true, "small"), "2 threads, interpreted");
    }

    private static String child(String threads, boolean interpreted, String shapes) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Dovis4j.threads=" + threads));
        if (interpreted) cmd.add("-Xint");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), AttentionOpTest.class.getName(), shapes));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child JVM timed out");
        assertEquals(0, p.exitValue(), output);
        return output.lines().filter(l -> l.startsWith("digest ")).map(l -> l.substring(7)).findFirst()
                .orElseThrow(() -> new AssertionError("no digest from child: " + output));
    }
}
