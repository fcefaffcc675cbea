package org.ovis4j.train.vae;

import static org.ovis4j.train.vae.VaeWorkspace.Slot.GRAD_A;
import static org.ovis4j.train.vae.VaeWorkspace.Slot.GRAD_B;

import java.util.List;

/** The encoder or the decoder: stages run in order, each one's output the next one's input. */
final class StageChain {
    private final List<Stage> stages;

    StageChain(List<Stage> stages) {
        this.stages = List.copyOf(stages);
    }

    Stage.State[] newStates(MapShape in) {
        Stage.State[] st = new Stage.State[stages.size()];
        for (int i = 0; i < st.length; i++) {
            st[i] = stages.get(i).newState(in);
            in = st[i].out;
        }
        return st;
    }

    /** Runs every stage from x; the result is the last state's y. */
    void forward(float[] x, Stage.State[] st, VaeWorkspace ws) {
        for (int i = 0; i < st.length; i++) stages.get(i).forward(i == 0 ? x : st[i - 1].y, st[i], ws);
    }

    /**
     * Given dOut at the last stage's output, adds every parameter's gradient and the input's gradient
     * to dx. The gradient between stages i−1 and i lives in one of two workspace slots by the parity
     * of i, so a stage never reads and writes the same array.
     */
    void backward(float[] x, Stage.State[] st, float[] dOut, float[] dx, VaeWorkspace ws) {
        float[] g = dOut;
        for (int i = st.length - 1; i >= 0; i--) {
            float[] gIn = i == 0 ? dx : ws.zeroed(i % 2 == 0 ? GRAD_A : GRAD_B, st[i].in.size());
            stages.get(i).backward(i == 0 ? x : st[i - 1].y, st[i], g, gIn, ws);
            g = gIn;
        }
    }
}
