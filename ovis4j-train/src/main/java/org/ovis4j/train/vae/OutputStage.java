package org.ovis4j.train.vae;

import static org.ovis4j.train.vae.VaeWorkspace.Slot.ACT;
import static org.ovis4j.train.vae.VaeWorkspace.Slot.ACT_GRAD;

/** conv_norm_out → SiLU → conv_out, the last stage of the encoder and of the decoder. */
final class OutputStage extends Stage {
    private final NormLayer norm;
    private final ConvLayer conv;

    OutputStage(NormLayer norm, ConvLayer conv) {
        this.norm = norm;
        this.conv = conv;
    }

    private static final class Saved extends State {
        final float[][] stats;

        Saved(MapShape in, MapShape out, NormLayer norm) {
            super(in, out);
            stats = norm.newStats(in.batch());
        }
    }

    @Override
    MapShape outShape(MapShape in) {
        return conv.outShape(in);
    }

    @Override
    State newState(MapShape in) {
        return new Saved(in, outShape(in), norm);
    }

    @Override
    void forward(float[] x, State state, VaeWorkspace ws) {
        Saved s = (Saved) state;
        float[] t = ws.get(ACT, s.in.size());
        norm.forward(x, s.in, t, s.stats);
        conv.forward(t, s.in, s.y, ws.conv);
    }

    @Override
    void backward(float[] x, State state, float[] dOut, float[] dx, VaeWorkspace ws) {
        Saved s = (Saved) state;
        float[] t = ws.get(ACT, s.in.size());
        norm.apply(x, s.in, t, s.stats);
        float[] dt = ws.zeroed(ACT_GRAD, s.in.size());
        conv.backward(t, s.in, dOut, dt, ws.conv);
        norm.backward(x, s.in, s.stats, dt, dx);
    }
}
