package org.ovis4j.train.vae;

/**
 * One step of the encoder's or decoder's chain (a convolution, a resnet, the mid-block attention, an
 * upsampler, the output head): a map in, a map out, the forward keeping in a {@link State} what the
 * backward reads. Stages own their parameters; states belong to one training step's activations.
 */
abstract class Stage {
    /** What a forward keeps: at least its output, which is also the next stage's input. */
    static class State {
        final MapShape in, out;
        final float[] y;

        State(MapShape in, MapShape out) {
            this.in = in;
            this.out = out;
            this.y = new float[out.size()];
        }
    }

    abstract MapShape outShape(MapShape in);

    State newState(MapShape in) {
        return new State(in, outShape(in));
    }

    /** Writes s.y from x (s.in shaped). */
    abstract void forward(float[] x, State s, VaeWorkspace ws);

    /**
     * Given dOut at s.y, adds the parameters' gradients to their {@code grad} arrays and the input's
     * gradient to dx. x is the forward's input; dOut is not modified.
     */
    abstract void backward(float[] x, State s, float[] dOut, float[] dx, VaeWorkspace ws);
}
