package org.ovis4j.train.vae;

import static org.ovis4j.train.vae.VaeWorkspace.Slot.UP;
import static org.ovis4j.train.vae.VaeWorkspace.Slot.UP_GRAD;

import org.ovis4j.train.ops.UpsampleNearestOp;

/**
 * The decoder's Upsample2D: nearest ×2, then a 3×3 convolution (pad 1). The upsampled map is rebuilt
 * in the backward instead of kept (a copy, four times the input).
 */
final class UpsampleStage extends Stage {
    private final ConvLayer conv;

    UpsampleStage(ConvLayer conv) {
        this.conv = conv;
    }

    private static MapShape doubled(MapShape in) {
        return in.scaled(2 * in.h(), 2 * in.w());
    }

    @Override
    MapShape outShape(MapShape in) {
        return conv.outShape(doubled(in));
    }

    @Override
    void forward(float[] x, State s, VaeWorkspace ws) {
        MapShape up = doubled(s.in);
        float[] u = ws.get(UP, up.size());
        UpsampleNearestOp.forward(x, s.in.batch(), s.in.h(), s.in.w(), s.in.c(), u);
        conv.forward(u, up, s.y, ws.conv);
    }

    @Override
    void backward(float[] x, State s, float[] dOut, float[] dx, VaeWorkspace ws) {
        MapShape up = doubled(s.in);
        float[] u = ws.get(UP, up.size());
        UpsampleNearestOp.forward(x, s.in.batch(), s.in.h(), s.in.w(), s.in.c(), u);
        float[] du = ws.zeroed(UP_GRAD, up.size());
        conv.backward(u, up, dOut, du, ws.conv);
        UpsampleNearestOp.backward(du, s.in.batch(), s.in.h(), s.in.w(), s.in.c(), dx);
    }
}
