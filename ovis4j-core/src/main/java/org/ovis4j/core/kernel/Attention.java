package org.ovis4j.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.parallel.Parallel;

/**
 * Scaled dot-product attention, softmax(q·kᵀ·scale)·v, per head, with optional causal masking and a
 * key-length limit (keys at or past {@code validKeys} are masked, as for right padding). Grouped-query
 * heads share key/value heads: query head h reads kv head h / (Hq / Hkv). The softmax runs online
 * over key blocks, so no score matrix larger than one block per query is ever held.
 */
public final class Attention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int QB = 16;
    private static final int KB = 256;

    private Attention() {}

    /**
     * q [Lq, Hq*D] (row stride ldq), k/v [Lk, Hkv*D] (strides ldk, ldv), out [Lq, Hq*D] (stride ldo).
     */
    public static void attend(float[] q, int ldq, float[] k, int ldk, float[] v, int ldv, float[] out, int ldo,
                              int lq, int lk, int hq, int hkv, int d, float scale, boolean causal, int validKeys) {
        int group = hq / hkv;
        int qBlocks = (lq + QB - 1) / QB;
        Parallel.forEach(hq * qBlocks, task -> {
            int h = task / qBlocks, qb = task % qBlocks;
            int kvh = h / group;
            float[] scores = SCORES.get();
            float[] acc = new float[d];
            for (int i = qb * QB, end = Math.min(lq, i + QB); i < end; i++) {
                int qOff = i * ldq + h * d;
                int keys = Math.min(validKeys, causal ? i + 1 : lk);
                float max = Float.NEGATIVE_INFINITY, sum = 0f;
                java.util.Arrays.fill(acc, 0f);
                for (int j0 = 0; j0 < keys; j0 += KB) {
                    int j1 = Math.min(keys, j0 + KB);
                    float blockMax = Float.NEGATIVE_INFINITY;
                    for (int j = j0; j < j1; j++) {
                        float s = dot(q, qOff, k, j * ldk + kvh * d, d) * scale;
                        scores[j - j0] = s;
                        if (s > blockMax) blockMax = s;
                    }
                    float newMax = Math.max(max, blockMax);
                    float correction = (float) Math.exp(max - newMax);
                    if (correction != 1f) {
                        sum *= correction;
                        scale(acc, d, correction);
                    }
                    max = newMax;
                    for (int j = j0; j < j1; j++) {
                        float p = (float) Math.exp(scores[j - j0] - max);
                        sum += p;
                        axpy(p, v, j * ldv + kvh * d, acc, d);
                    }
                }
                int o = i * ldo + h * d;
                float inv = keys > 0 ? 1f / sum : 0f;
                for (int t = 0; t < d; t++) out[o + t] = acc[t] * inv;
            }
        });
    }

    private static final ThreadLocal<float[]> SCORES = ThreadLocal.withInitial(() -> new float[KB]);

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float s = 0f;
        if (n >= L) {
            FloatVector acc = FloatVector.zero(S);
            for (; i + L <= n; i += L) acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            s = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    private static void axpy(float p, float[] x, int xo, float[] y, int n) {
        int i = 0;
        FloatVector pv = FloatVector.broadcast(S, p);
        for (; i + L <= n; i += L) pv.fma(FloatVector.fromArray(S, x, xo + i), FloatVector.fromArray(S, y, i)).intoArray(y, i);
        for (; i < n; i++) y[i] += p * x[xo + i];
    }

    private static void scale(float[] y, int n, float c) {
        for (int i = 0; i < n; i++) y[i] *= c;
    }
}
