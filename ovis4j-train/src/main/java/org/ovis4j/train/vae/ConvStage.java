package org.ovis4j.train.vae;

/** A lone convolution: the encoder's and decoder's conv_in, and the encoder's ×½ downsamplers. */
final class ConvStage extends Stage {
    private final ConvLayer conv;

    ConvStage(ConvLayer conv) {
        this.conv = conv;
    }

    @Override
    MapShape outShape(MapShape in) {
        return conv.outShape(in);
    }

    @Override
    void forward(float[] x, State s, VaeWorkspace ws) {
        conv.forward(x, s.in, s.y, ws.conv);
    }

    @Override
    void backward(float[] x, State s, float[] dOut, float[] dx, VaeWorkspace ws) {
        conv.backward(x, s.in, dOut, dx, ws.conv);
    }
}
