package org.ovis4j.train.optim;

import java.util.ArrayList;
import java.util.List;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.train.param.Parameter;

/**
 * Gradient clipping by global norm, as {@code torch.nn.utils.clip_grad_norm_(params, max_norm)} with
 * the L2 norm: per-tensor norms ‖g_t‖₂ (float32 values), the norm of those norms, then
 * {@code coef = min(1, max_norm / (total + 1e-6))} and g ← g·coef on every gradient (also when coef is
 * 1, as torch multiplies unconditionally).
 *
 * <p>Rounding: each tensor's sum of squares is accumulated in double and its norm rounded to float32 (torch
 * keeps the per-tensor norms as float32 tensors); the norm of norms is likewise taken in double and
 * rounded. torch accumulates in float32 SIMD lanes, so the two differ by torch's own accumulation error,
 * a few float32 ulps at most (identical on the goldens). The coefficient is then computed in float32 as
 * torch evaluates {@code max_norm / (total_norm + 1e-6)} on a float32 tensor:
 * {@code (1 / (total + (float) 1e-6)) · (float) max_norm} ({@code Tensor.__rtruediv__} is reciprocal then
 * multiply), clamped at 1.
 */
public final class GradClip {
    private static final int CHUNK = 1 << 16;

    private GradClip() {}

    /** What clipping found and applied. {@code totalNorm} is NaN or infinite when a gradient was. */
    public record Result(float totalNorm, float coef) {
        public boolean finite() { return Float.isFinite(totalNorm); }
    }

    /** The global L2 norm of the gradients of {@code params} (trainable ones; frozen ones have none). */
    public static float totalNorm(List<Parameter> params) {
        List<Parameter> ps = withGrads(params);
        record Chunk(int param, int from, int to) {}
        List<Chunk> chunks = new ArrayList<>();
        for (int k = 0; k < ps.size(); k++)
            for (int from = 0; from < ps.get(k).size(); from += CHUNK)
                chunks.add(new Chunk(k, from, Math.min(ps.get(k).size(), from + CHUNK)));
        double[] partial = new double[chunks.size()];
        Parallel.forEach(chunks.size(), t -> {
            Chunk c = chunks.get(t);
            partial[t] = sumOfSquares(ps.get(c.param).grad(), c.from, c.to);
        });
        // partials are added in a fixed order, so the result does not depend on the thread count
        double[] tensorSq = new double[ps.size()];
        for (int t = 0; t < chunks.size(); t++) tensorSq[chunks.get(t).param] += partial[t];
        double total = 0;
        for (double sq : tensorSq) {
            double norm = (float) Math.sqrt(sq);
            total += norm * norm;
        }
        return (float) Math.sqrt(total);
    }

    /** torch's clip coefficient for a total norm, in its float32 arithmetic, clamped at 1. */
    public static float coefficient(float totalNorm, double maxNorm) {
        float c = 1f / (totalNorm + (float) 1e-6) * (float) maxNorm;
        return Math.min(c, 1f); // NaN stays NaN, like torch.clamp
    }

    /** Clips the gradients of {@code params} in place to a global norm of at most {@code maxNorm}. */
    public static Result clip(List<Parameter> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new OvisException("gradient clipping: max_grad_norm must be positive, got " + maxNorm);
        List<Parameter> ps = withGrads(params);
        float total = totalNorm(ps);
        float coef = coefficient(total, maxNorm);
        Parallel.forEach(ps.size(), k -> {
            float[] g = ps.get(k).grad();
            for (int i = 0; i < g.length; i++) g[i] *= coef;
        });
        return new Result(total, coef);
    }

    private static double sumOfSquares(float[] g, int from, int to) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        for (; i + 4 <= to; i += 4) {
            double a = g[i], b = g[i + 1], c = g[i + 2], d = g[i + 3];
            s0 += a * a;
            s1 += b * b;
            s2 += c * c;
            s3 += d * d;
        }
        for (; i < to; i++) s0 += (double) g[i] * g[i];
        return (s0 + s1) + (s2 + s3);
    }

    private static List<Parameter> withGrads(List<Parameter> params) {
        List<Parameter> ps = new ArrayList<>();
        for (Parameter p : params) if (p.trainable()) ps.add(p);
        return ps;
    }
}
