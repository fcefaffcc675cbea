package org.ovis4j.core.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.ovis4j.core.parallel.Parallel;

/**
 * {@link #JAVA}, the float32 attention kernel in Vector API code that runs everywhere (models call
 * the kernel of their {@link ComputeContext}, which is this one unless the backend brings its own).
 *
 * <p>The Java kernel is tiled like a GEMM: a block of QB queries meets a block of KB keys at a time. The scores of the
 * tile come from a register-blocked kernel over a once-transposed Kᵀ (so no horizontal sums), the
 * softmax runs online over key blocks with a vectorised exp, and P·V is accumulated four query rows
 * at a time. Only one QB x KB score tile per thread is ever held, never the whole score matrix.
 */
public final class Attention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Keys per score kernel step: two vectors. */
    private static final int KW = 2 * L;
    private static final int QB = 32;
    private static final int KB = 256;

    /** The float32 Java kernel. */
    public static final AttentionKernel JAVA = (q, qOff, ldq, k, kOff, ldk, v, vOff, ldv, out, oOff, ldo, lq, lk, hq, hkv, d,
            scale, causal, validKeys) -> attendFloat32(q, qOff, ldq, k, kOff, ldk, v, vOff, ldv, out, oOff, ldo, lq, lk, hq,
            hkv, d, scale, causal, validKeys, 1, null, 0);

    private Attention() {}

    /**
     * The Java kernel whatever the backend, for {@code samples} independent samples stored one after the
     * other (sample s's q rows from qOff + s·lq·ldq, its k, v rows from kOff + s·lk·ldk, vOff + s·lk·ldv,
     * its out rows from oOff + s·lq·ldo), also writing each query row's log-sum-exp of its scaled scores,
     * {@code lse[lseOff + (s·hq + h)·lq + i] = log Σ_j exp(scale·q_i·k_j)} (−∞ for a row that sees no key).
     * Training's attention backward recomputes the probabilities from it; it uses this kernel, not the
     * backend's, so that the statistics it saved belong to the very forward it differentiates. Samples
     * share one parallel loop, so many small ones (the tiny model's batch) cost one hand-off to the pool.
     */
    public static void attendJava(float[] q, int qOff, int ldq, float[] k, int kOff, int ldk, float[] v, int vOff, int ldv,
                                  float[] out, int oOff, int ldo, int samples, int lq, int lk, int hq, int hkv, int d,
                                  float scale, boolean causal, int validKeys, float[] lse, int lseOff) {
        attendFloat32(q, qOff, ldq, k, kOff, ldk, v, vOff, ldv, out, oOff, ldo, lq, lk, hq, hkv, d, scale, causal, validKeys,
                samples, lse, lseOff);
    }

    private static void attendFloat32(float[] q, int qOff, int ldq, float[] k, int kOff, int ldk, float[] v, int vOff, int ldv,
                                      float[] out, int oOff, int ldo, int lq, int lk, int hq, int hkv, int d, float scale,
                                      boolean causal, int validKeys, int samples, float[] lse, int lseOff) {
        int keys = Math.min(lk, validKeys);
        if (lq == 0 || samples == 0) return;
        int group = hq / hkv;
        // Kᵀ per sample and kv head, keys padded with zeros to a multiple of KW:
        // kt[((s*hkv + h)*d + t)*kp + j] = k[s, j, h, t].
        int kp = Math.max(KW, (keys + KW - 1) / KW * KW);
        float[] kt = new float[samples * hkv * d * kp];
        Parallel.forEach(samples * hkv, sh -> {
            for (int j = 0; j < keys; j++) {
                int src = kOff + (sh / hkv * lk + j) * ldk + sh % hkv * d;
                for (int t = 0; t < d; t++) kt[(sh * d + t) * kp + j] = k[src + t];
            }
        });
        int qBlocks = (lq + QB - 1) / QB;
        Parallel.forEach(samples * hq * qBlocks, task -> {
            int s = task / (hq * qBlocks), h = task / qBlocks % hq, qb = task % qBlocks;
            int kvh = h / group;
            Tile tile = TILES.get().fit(d);
            int r0 = qb * QB, rows = Math.min(QB, lq - r0);
            java.util.Arrays.fill(tile.o, 0, rows * d, 0f);
            java.util.Arrays.fill(tile.max, 0, rows, Float.NEGATIVE_INFINITY);
            java.util.Arrays.fill(tile.sum, 0, rows, 0f);
            // The last row of the block sees the most keys.
            int blockKeys = causal ? Math.min(keys, r0 + rows) : keys;
            for (int j0 = 0; j0 < blockKeys; j0 += KB) {
                int jn = Math.min(KB, blockKeys - j0);
                scores(q, ldq, qOff + s * lq * ldq + h * d, r0, rows, kt, ((s * hkv + kvh) * d) * kp, kp, j0, jn, d, tile.s);
                softmaxStep(tile, rows, r0, j0, jn, scale, causal, keys, d);
                accumulate(tile, rows, v, ldv, vOff + s * lk * ldv + kvh * d, j0, jn, d);
            }
            for (int r = 0; r < rows; r++) {
                float inv = tile.sum[r] > 0 ? 1f / tile.sum[r] : 0f;
                int o = oOff + (s * lq + r0 + r) * ldo + h * d;
                for (int t = 0; t < d; t++) out[o + t] = tile.o[r * d + t] * inv;
                if (lse != null)
                    lse[lseOff + (s * hq + h) * lq + r0 + r] = tile.sum[r] > 0 ? tile.max[r] + (float) Math.log(tile.sum[r])
                            : Float.NEGATIVE_INFINITY;
            }
        });
    }

    /** Per-thread working set: one score tile, the output accumulators and the running max and sum. */
    private static final class Tile {
        final float[] s = new float[QB * KB];
        final float[] max = new float[QB], sum = new float[QB];
        float[] o = new float[0];

        Tile fit(int d) {
            if (o.length < QB * d) o = new float[QB * d];
            return this;
        }
    }

    private static final ThreadLocal<Tile> TILES = ThreadLocal.withInitial(Tile::new);

    /** s[r*KB + j] = q[r0 + r, head]·k[j0 + j, kv head] for r < rows, j < jn (rounded up to KW). */
    private static void scores(float[] q, int ldq, int qCol, int r0, int rows, float[] kt, int ktBase, int kp,
                               int j0, int jn, int d, float[] s) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int a0 = (r0 + r) * ldq + qCol, a1 = a0 + ldq, a2 = a1 + ldq, a3 = a2 + ldq;
            int j = 0;
            // Four vectors of keys per step (16 FMAs per 4 loads and 4 broadcasts), then two for the rest.
            for (int jp = (jn + KW - 1) / KW * KW; j + 2 * KW <= jp; j += 2 * KW) {
                FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c02 = FloatVector.zero(S), c03 = FloatVector.zero(S);
                FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S), c13 = FloatVector.zero(S);
                FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c22 = FloatVector.zero(S), c23 = FloatVector.zero(S);
                FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S), c32 = FloatVector.zero(S), c33 = FloatVector.zero(S);
                for (int t = 0, b = ktBase + j0 + j; t < d; t++, b += kp) {
                    FloatVector k0 = FloatVector.fromArray(S, kt, b), k1 = FloatVector.fromArray(S, kt, b + L);
                    FloatVector k2 = FloatVector.fromArray(S, kt, b + 2 * L), k3 = FloatVector.fromArray(S, kt, b + 3 * L);
                    FloatVector x = FloatVector.broadcast(S, q[a0 + t]);
                    c00 = x.fma(k0, c00); c01 = x.fma(k1, c01); c02 = x.fma(k2, c02); c03 = x.fma(k3, c03);
                    x = FloatVector.broadcast(S, q[a1 + t]);
                    c10 = x.fma(k0, c10); c11 = x.fma(k1, c11); c12 = x.fma(k2, c12); c13 = x.fma(k3, c13);
                    x = FloatVector.broadcast(S, q[a2 + t]);
                    c20 = x.fma(k0, c20); c21 = x.fma(k1, c21); c22 = x.fma(k2, c22); c23 = x.fma(k3, c23);
                    x = FloatVector.broadcast(S, q[a3 + t]);
                    c30 = x.fma(k0, c30); c31 = x.fma(k1, c31); c32 = x.fma(k2, c32); c33 = x.fma(k3, c33);
                }
                int o = r * KB + j;
                c00.intoArray(s, o); c01.intoArray(s, o + L); c02.intoArray(s, o + 2 * L); c03.intoArray(s, o + 3 * L);
                o += KB;
                c10.intoArray(s, o); c11.intoArray(s, o + L); c12.intoArray(s, o + 2 * L); c13.intoArray(s, o + 3 * L);
                o += KB;
                c20.intoArray(s, o); c21.intoArray(s, o + L); c22.intoArray(s, o + 2 * L); c23.intoArray(s, o + 3 * L);
                o += KB;
                c30.intoArray(s, o); c31.intoArray(s, o + L); c32.intoArray(s, o + 2 * L); c33.intoArray(s, o + 3 * L);
            }
            for (; j < jn; j += KW) {
                FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
                FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
                FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
                FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
                for (int t = 0, b = ktBase + j0 + j; t < d; t++, b += kp) {
                    FloatVector k0 = FloatVector.fromArray(S, kt, b), k1 = FloatVector.fromArray(S, kt, b + L);
                    FloatVector x = FloatVector.broadcast(S, q[a0 + t]);
                    c00 = x.fma(k0, c00); c01 = x.fma(k1, c01);
                    x = FloatVector.broadcast(S, q[a1 + t]);
                    c10 = x.fma(k0, c10); c11 = x.fma(k1, c11);
                    x = FloatVector.broadcast(S, q[a2 + t]);
                    c20 = x.fma(k0, c20); c21 = x.fma(k1, c21);
                    x = FloatVector.broadcast(S, q[a3 + t]);
                    c30 = x.fma(k0, c30); c31 = x.fma(k1, c31);
                }
                int o = r * KB + j;
                c00.intoArray(s, o); c01.intoArray(s, o + L);
                c10.intoArray(s, o + KB); c11.intoArray(s, o + KB + L);
                c20.intoArray(s, o + 2 * KB); c21.intoArray(s, o + 2 * KB + L);
                c30.intoArray(s, o + 3 * KB); c31.intoArray(s, o + 3 * KB + L);
            }
        }
        for (; r < rows; r++) {
            int a0 = (r0 + r) * ldq + qCol;
            for (int j = 0; j < jn; j += KW) {
                FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S);
                for (int t = 0, b = ktBase + j0 + j; t < d; t++, b += kp) {
                    FloatVector x = FloatVector.broadcast(S, q[a0 + t]);
                    c0 = x.fma(FloatVector.fromArray(S, kt, b), c0);
                    c1 = x.fma(FloatVector.fromArray(S, kt, b + L), c1);
                }
                c0.intoArray(s, r * KB + j);
                c1.intoArray(s, r * KB + j + L);
            }
        }
    }

    /**
     * Scales and masks the tile's scores, updates each row's running max (rescaling what it has
     * accumulated so far) and turns the scores into unnormalised probabilities, adding them to the sum.
     */
    private static void softmaxStep(Tile tile, int rows, int r0, int j0, int jn, float scale, boolean causal, int keys, int d) {
        float[] s = tile.s;
        for (int r = 0; r < rows; r++) {
            int base = r * KB;
            int visible = Math.min(jn, (causal ? Math.min(keys, r0 + r + 1) : keys) - j0);
            if (visible <= 0) {
                java.util.Arrays.fill(s, base, base + jn, 0f);
                continue;
            }
            // A max has no rounding, so the order lanes are combined in cannot change it.
            FloatVector maxes = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            int j = 0;
            for (; j + L <= visible; j += L) {
                FloatVector x = FloatVector.fromArray(S, s, base + j).mul(scale);
                x.intoArray(s, base + j);
                maxes = maxes.max(x);
            }
            float blockMax = maxes.reduceLanes(VectorOperators.MAX);
            for (; j < visible; j++) {
                float x = s[base + j] * scale;
                s[base + j] = x;
                if (x > blockMax) blockMax = x;
            }
            java.util.Arrays.fill(s, base + visible, base + jn, 0f);
            float old = tile.max[r], now = Math.max(old, blockMax);
            if (now > old && old != Float.NEGATIVE_INFINITY) {
                float c = (float) Math.exp(old - now);
                tile.sum[r] *= c;
                for (int t = r * d, e = t + d; t < e; t++) tile.o[t] *= c;
            }
            tile.max[r] = now;
            FloatVector m = FloatVector.broadcast(S, now);
            FloatVector acc = FloatVector.zero(S);
            j = 0;
            for (; j + L <= visible; j += L) {
                FloatVector p = VectorMath.expNonPositive(FloatVector.fromArray(S, s, base + j).sub(m));
                p.intoArray(s, base + j);
                acc = acc.add(p);
            }
            float sum = VectorMath.sumLanes(acc);
            for (; j < visible; j++) {
                float p = (float) Math.exp(s[base + j] - now);
                s[base + j] = p;
                sum += p;
            }
            tile.sum[r] += sum;
        }
    }

    /** o[r, :] += Σ_j p[r, j]·v[j0 + j, kv head, :], four rows per pass over each vector of v. */
    private static void accumulate(Tile tile, int rows, float[] v, int ldv, int vCol, int j0, int jn, int d) {
        float[] s = tile.s, o = tile.o;
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int c = 0;
            // Four vectors of v per step: 16 FMAs for 4 loads and 4 broadcasts.
            for (; c + 4 * L <= d; c += 4 * L) {
                int o0 = r * d + c, o1 = o0 + d, o2 = o1 + d, o3 = o2 + d;
                FloatVector x0 = FloatVector.fromArray(S, o, o0), y0 = FloatVector.fromArray(S, o, o0 + L);
                FloatVector z0 = FloatVector.fromArray(S, o, o0 + 2 * L), w0 = FloatVector.fromArray(S, o, o0 + 3 * L);
                FloatVector x1 = FloatVector.fromArray(S, o, o1), y1 = FloatVector.fromArray(S, o, o1 + L);
                FloatVector z1 = FloatVector.fromArray(S, o, o1 + 2 * L), w1 = FloatVector.fromArray(S, o, o1 + 3 * L);
                FloatVector x2 = FloatVector.fromArray(S, o, o2), y2 = FloatVector.fromArray(S, o, o2 + L);
                FloatVector z2 = FloatVector.fromArray(S, o, o2 + 2 * L), w2 = FloatVector.fromArray(S, o, o2 + 3 * L);
                FloatVector x3 = FloatVector.fromArray(S, o, o3), y3 = FloatVector.fromArray(S, o, o3 + L);
                FloatVector z3 = FloatVector.fromArray(S, o, o3 + 2 * L), w3 = FloatVector.fromArray(S, o, o3 + 3 * L);
                int p = r * KB;
                for (int j = 0, vb = j0 * ldv + vCol + c; j < jn; j++, vb += ldv) {
                    FloatVector va = FloatVector.fromArray(S, v, vb), vc = FloatVector.fromArray(S, v, vb + L);
                    FloatVector ve = FloatVector.fromArray(S, v, vb + 2 * L), vg = FloatVector.fromArray(S, v, vb + 3 * L);
                    FloatVector w = FloatVector.broadcast(S, s[p + j]);
                    x0 = w.fma(va, x0); y0 = w.fma(vc, y0); z0 = w.fma(ve, z0); w0 = w.fma(vg, w0);
                    w = FloatVector.broadcast(S, s[p + KB + j]);
                    x1 = w.fma(va, x1); y1 = w.fma(vc, y1); z1 = w.fma(ve, z1); w1 = w.fma(vg, w1);
                    w = FloatVector.broadcast(S, s[p + 2 * KB + j]);
                    x2 = w.fma(va, x2); y2 = w.fma(vc, y2); z2 = w.fma(ve, z2); w2 = w.fma(vg, w2);
                    w = FloatVector.broadcast(S, s[p + 3 * KB + j]);
                    x3 = w.fma(va, x3); y3 = w.fma(vc, y3); z3 = w.fma(ve, z3); w3 = w.fma(vg, w3);
                }
                x0.intoArray(o, o0); y0.intoArray(o, o0 + L); z0.intoArray(o, o0 + 2 * L); w0.intoArray(o, o0 + 3 * L);
                x1.intoArray(o, o1); y1.intoArray(o, o1 + L); z1.intoArray(o, o1 + 2 * L); w1.intoArray(o, o1 + 3 * L);
                x2.intoArray(o, o2); y2.intoArray(o, o2 + L); z2.intoArray(o, o2 + 2 * L); w2.intoArray(o, o2 + 3 * L);
                x3.intoArray(o, o3); y3.intoArray(o, o3 + L); z3.intoArray(o, o3 + 2 * L); w3.intoArray(o, o3 + 3 * L);
            }
            // Then two vectors: 8 FMAs for 2 loads and 4 broadcasts.
            for (; c + 2 * L <= d; c += 2 * L) {
                int o0 = r * d + c;
                FloatVector x0 = FloatVector.fromArray(S, o, o0), y0 = FloatVector.fromArray(S, o, o0 + L);
                FloatVector x1 = FloatVector.fromArray(S, o, o0 + d), y1 = FloatVector.fromArray(S, o, o0 + d + L);
                FloatVector x2 = FloatVector.fromArray(S, o, o0 + 2 * d), y2 = FloatVector.fromArray(S, o, o0 + 2 * d + L);
                FloatVector x3 = FloatVector.fromArray(S, o, o0 + 3 * d), y3 = FloatVector.fromArray(S, o, o0 + 3 * d + L);
                int p = r * KB;
                for (int j = 0, vb = j0 * ldv + vCol + c; j < jn; j++, vb += ldv) {
                    FloatVector va = FloatVector.fromArray(S, v, vb), vc = FloatVector.fromArray(S, v, vb + L);
                    FloatVector w = FloatVector.broadcast(S, s[p + j]);
                    x0 = w.fma(va, x0); y0 = w.fma(vc, y0);
                    w = FloatVector.broadcast(S, s[p + KB + j]);
                    x1 = w.fma(va, x1); y1 = w.fma(vc, y1);
                    w = FloatVector.broadcast(S, s[p + 2 * KB + j]);
                    x2 = w.fma(va, x2); y2 = w.fma(vc, y2);
                    w = FloatVector.broadcast(S, s[p + 3 * KB + j]);
                    x3 = w.fma(va, x3); y3 = w.fma(vc, y3);
                }
                x0.intoArray(o, o0); y0.intoArray(o, o0 + L);
                x1.intoArray(o, o0 + d); y1.intoArray(o, o0 + d + L);
                x2.intoArray(o, o0 + 2 * d); y2.intoArray(o, o0 + 2 * d + L);
                x3.intoArray(o, o0 + 3 * d); y3.intoArray(o, o0 + 3 * d + L);
            }
            for (; c + L <= d; c += L) {
                int o0 = r * d + c;
                FloatVector x0 = FloatVector.fromArray(S, o, o0), x1 = FloatVector.fromArray(S, o, o0 + d);
                FloatVector x2 = FloatVector.fromArray(S, o, o0 + 2 * d), x3 = FloatVector.fromArray(S, o, o0 + 3 * d);
                int p = r * KB;
                for (int j = 0, vb = j0 * ldv + vCol + c; j < jn; j++, vb += ldv) {
                    FloatVector vv = FloatVector.fromArray(S, v, vb);
                    x0 = FloatVector.broadcast(S, s[p + j]).fma(vv, x0);
                    x1 = FloatVector.broadcast(S, s[p + KB + j]).fma(vv, x1);
                    x2 = FloatVector.broadcast(S, s[p + 2 * KB + j]).fma(vv, x2);
                    x3 = FloatVector.broadcast(S, s[p + 3 * KB + j]).fma(vv, x3);
                }
                x0.intoArray(o, o0); x1.intoArray(o, o0 + d);
                x2.intoArray(o, o0 + 2 * d); x3.intoArray(o, o0 + 3 * d);
            }
            for (; c < d; c++)
                for (int rr = r; rr < r + 4; rr++) accumulateScalar(tile, rr, v, ldv, vCol + c, j0, jn, rr * d + c);
        }
        for (; r < rows; r++) {
            int c = 0;
            for (; c + L <= d; c += L) {
                FloatVector x0 = FloatVector.fromArray(S, o, r * d + c);
                for (int j = 0, vb = j0 * ldv + vCol + c; j < jn; j++, vb += ldv)
                    x0 = FloatVector.broadcast(S, s[r * KB + j]).fma(FloatVector.fromArray(S, v, vb), x0);
                x0.intoArray(o, r * d + c);
            }
            for (; c < d; c++) accumulateScalar(tile, r, v, ldv, vCol + c, j0, jn, r * d + c);
        }
    }

    private static void accumulateScalar(Tile tile, int r, float[] v, int ldv, int col, int j0, int jn, int oIndex) {
        float acc = tile.o[oIndex];
        for (int j = 0; j < jn; j++) acc += tile.s[r * KB + j] * v[(j0 + j) * ldv + col];
        tile.o[oIndex] = acc;
    }
}
