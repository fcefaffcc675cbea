package org.ovis4j.train.vae;

import static org.ovis4j.train.vae.VaeWorkspace.Slot.ACT;
import static org.ovis4j.train.vae.VaeWorkspace.Slot.ACT_GRAD;
import static org.ovis4j.train.vae.VaeWorkspace.Slot.MID_GRAD;
import static org.ovis4j.train.vae.VaeWorkspace.Slot.SHORTCUT;

import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.train.ops.Conv2dOp;
import org.ovis4j.train.param.Parameters;

/**
 * ResnetBlock2D without time embedding (diffusers names under {@code prefix}):
 * h = conv1(SiLU(norm1(x))), out = shortcut(x) + conv2(SiLU(norm2(h))), the shortcut a 1×1
 * {@code conv_shortcut} where the channel count changes, else the identity.
 *
 * <p>Kept for the backward: h and the two norms' statistics. The convolutions' inputs
 * SiLU(norm(·)) are rebuilt from x and h with those statistics (an element-wise pass) rather than
 * stored: two maps fewer per resnet.
 */
final class ResnetStage extends Stage {
    private final NormLayer norm1, norm2;
    private final ConvLayer conv1, conv2, shortcut;
    private final int cin, cout;

    ResnetStage(TrainableVae.Source src, Parameters ps, String prefix, int cin, int cout, int groups) {
        this.cin = cin;
        this.cout = cout;
        norm1 = new NormLayer(src, ps, prefix + "norm1", cin, groups, true);
        conv1 = new ConvLayer(src, ps, prefix + "conv1", Conv2dOp.same(cin, cout, 3), false);
        norm2 = new NormLayer(src, ps, prefix + "norm2", cout, groups, true);
        conv2 = new ConvLayer(src, ps, prefix + "conv2", Conv2dOp.same(cout, cout, 3), false);
        shortcut = cin != cout ? new ConvLayer(src, ps, prefix + "conv_shortcut", Conv2dOp.pointwise(cin, cout), false) : null;
    }

    private static final class Saved extends State {
        final float[] h;
        final float[][] stats1, stats2;

        Saved(MapShape in, MapShape out, NormLayer n1, NormLayer n2) {
            super(in, out);
            h = new float[out.size()];
            stats1 = n1.newStats(in.batch());
            stats2 = n2.newStats(in.batch());
        }
    }

    @Override
    MapShape outShape(MapShape in) {
        if (in.c() != cin) throw new IllegalArgumentException("resnet: " + in.c() + " channels, expected " + cin);
        return in.withChannels(cout);
    }

    @Override
    State newState(MapShape in) {
        return new Saved(in, outShape(in), norm1, norm2);
    }

    @Override
    void forward(float[] x, State state, VaeWorkspace ws) {
        Saved s = (Saved) state;
        float[] t = ws.get(ACT, Math.max(s.in.size(), s.out.size()));
        norm1.forward(x, s.in, t, s.stats1);
        conv1.forward(t, s.in, s.h, ws.conv);
        norm2.forward(s.h, s.out, t, s.stats2);
        conv2.forward(t, s.out, s.y, ws.conv);
        int n = s.out.size();
        float[] skip = x;
        if (shortcut != null) {
            skip = ws.get(SHORTCUT, n);
            shortcut.forward(x, s.in, skip, ws.conv);
        }
        add(s.y, skip, n);
    }

    @Override
    void backward(float[] x, State state, float[] dOut, float[] dx, VaeWorkspace ws) {
        Saved s = (Saved) state;
        int nIn = s.in.size(), nOut = s.out.size();
        if (shortcut != null) shortcut.backward(x, s.in, dOut, dx, ws.conv);
        else add(dx, dOut, nIn);
        float[] t = ws.get(ACT, Math.max(nIn, nOut));
        norm2.apply(s.h, s.out, t, s.stats2);
        float[] dt = ws.zeroed(ACT_GRAD, Math.max(nIn, nOut));
        conv2.backward(t, s.out, dOut, dt, ws.conv);
        float[] dh = ws.zeroed(MID_GRAD, nOut);
        norm2.backward(s.h, s.out, s.stats2, dt, dh);
        norm1.apply(x, s.in, t, s.stats1);
        java.util.Arrays.fill(dt, 0, nIn, 0f);
        conv1.backward(t, s.in, dh, dt, ws.conv);
        norm1.backward(x, s.in, s.stats1, dt, dx);
    }

    /** a[i] += b[i] for i < n. */
    static void add(float[] a, float[] b, int n) {
        int chunk = 1 << 14;
        Parallel.forEach((n + chunk - 1) / chunk, t -> {
            for (int i = t * chunk, e = Math.min(n, i + chunk); i < e; i++) a[i] += b[i];
        });
    }
}
