package org.ovis4j.train.vae;

import static org.ovis4j.train.vae.VaeWorkspace.Slot.ACT;
import static org.ovis4j.train.vae.VaeWorkspace.Slot.ACT_GRAD;
import static org.ovis4j.train.vae.VaeWorkspace.Slot.ATTN_OUT_GRAD;
import static org.ovis4j.train.vae.VaeWorkspace.Slot.K_GRAD;
import static org.ovis4j.train.vae.VaeWorkspace.Slot.Q_GRAD;
import static org.ovis4j.train.vae.VaeWorkspace.Slot.V_GRAD;

import org.ovis4j.train.ops.AttentionOp;
import org.ovis4j.train.ops.Conv2dOp;
import org.ovis4j.train.param.Parameters;

/**
 * The mid block's self-attention (diffusers Attention with group_norm, one head over all C channels,
 * residual connection; names under {@code prefix}): every pixel of an image is a token,
 *
 * <pre>
 *   t = GN(x);  q, k, v = t·Wqᵀ + bq, …  (per-pixel linears [C, C]);  o = softmax(q·kᵀ/√C)·v;  y = x + o·Woᵀ + bo
 * </pre>
 *
 * The projections run as 1×1 convolutions (a Linear weight [C, C] has a 1×1 kernel's layout) on the
 * channels-last rows [pixels, C], which are also {@link AttentionOp}'s [samples·len, heads·headDim]
 * with samples = batch, len = h·w, one head of C. Kept: q, k, v, o, the log-sum-exp per query, and
 * the norm's statistics (t is rebuilt from x for the projections' weight gradients).
 */
final class AttentionStage extends Stage {
    private final NormLayer norm;
    private final ConvLayer toQ, toK, toV, toOut;
    private final int c;

    AttentionStage(TrainableVae.Source src, Parameters ps, String prefix, int channels, int groups) {
        this.c = channels;
        norm = new NormLayer(src, ps, prefix + "group_norm", channels, groups, false);
        toQ = new ConvLayer(src, ps, prefix + "to_q", Conv2dOp.pointwise(channels, channels), true);
        toK = new ConvLayer(src, ps, prefix + "to_k", Conv2dOp.pointwise(channels, channels), true);
        toV = new ConvLayer(src, ps, prefix + "to_v", Conv2dOp.pointwise(channels, channels), true);
        toOut = new ConvLayer(src, ps, prefix + "to_out.0", Conv2dOp.pointwise(channels, channels), true);
    }

    private static final class Saved extends State {
        final float[] q, k, v, o, lse;
        final float[][] stats;

        Saved(MapShape in, NormLayer norm) {
            super(in, in);
            int n = in.size();
            q = new float[n];
            k = new float[n];
            v = new float[n];
            o = new float[n];
            lse = new float[in.batch() * in.pixels()];
            stats = norm.newStats(in.batch());
        }
    }

    @Override
    MapShape outShape(MapShape in) {
        if (in.c() != c) throw new IllegalArgumentException("attention: " + in.c() + " channels, expected " + c);
        return in;
    }

    @Override
    State newState(MapShape in) {
        return new Saved(outShape(in), norm);
    }

    @Override
    void forward(float[] x, State state, VaeWorkspace ws) {
        Saved s = (Saved) state;
        MapShape m = s.in;
        float[] t = ws.get(ACT, m.size());
        norm.forward(x, m, t, s.stats);
        toQ.forward(t, m, s.q, ws.conv);
        toK.forward(t, m, s.k, ws.conv);
        toV.forward(t, m, s.v, ws.conv);
        AttentionOp.forward(s.q, s.k, s.v, m.batch(), m.pixels(), 1, c, s.o, s.lse);
        toOut.forward(s.o, m, s.y, ws.conv);
        ResnetStage.add(s.y, x, m.size());
    }

    @Override
    void backward(float[] x, State state, float[] dOut, float[] dx, VaeWorkspace ws) {
        Saved s = (Saved) state;
        MapShape m = s.in;
        int n = m.size();
        ResnetStage.add(dx, dOut, n);
        float[] dO = ws.zeroed(ATTN_OUT_GRAD, n);
        toOut.backward(s.o, m, dOut, dO, ws.conv);
        float[] dq = ws.get(Q_GRAD, n), dk = ws.get(K_GRAD, n), dv = ws.get(V_GRAD, n);
        AttentionOp.backward(s.q, s.k, s.v, s.o, s.lse, dO, m.batch(), m.pixels(), 1, c, dq, dk, dv);
        float[] t = ws.get(ACT, n);
        norm.apply(x, m, t, s.stats);
        float[] dt = ws.zeroed(ACT_GRAD, n);
        toQ.backward(t, m, dq, dt, ws.conv);
        toK.backward(t, m, dk, dt, ws.conv);
        toV.backward(t, m, dv, dt, ws.conv);
        norm.backward(x, m, s.stats, dt, dx);
    }
}
