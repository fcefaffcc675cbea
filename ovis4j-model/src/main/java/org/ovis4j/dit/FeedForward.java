package org.ovis4j.dit;

import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.Linear;

/** SwiGLU MLP: down(up(x) ⊙ SiLU(gate(x))), with up and gate the two row halves of one projection. */
final class FeedForward {
    private final Linear up, gate, down;
    private final int hidden;

    /** {@code inName} holds [up; gate] rows (diffusers ff.net.0.proj / proj_mlp), each {@code hidden} wide. */
    FeedForward(Weights w, String inName, int hidden, String downName) {
        this.hidden = hidden;
        up = new Linear(w.rows(inName + ".weight", 0, hidden), w.rows(inName + ".bias", 0, hidden));
        gate = new Linear(w.rows(inName + ".weight", hidden, 2L * hidden), w.rows(inName + ".bias", hidden, 2L * hidden));
        down = downName == null ? null : new Linear(w.get(downName + ".weight"), w.get(downName + ".bias"));
    }

    java.util.List<Linear> layers() {
        return down == null ? java.util.List.of(up, gate) : java.util.List.of(up, gate, down);
    }

    /**
     * The gated hidden activations of rows of x (from element xOff, width D) written at row stride
     * ldo, column offset off of out: the up half goes straight there and the gate half, through
     * {@code gateRows} [rows, F], is folded into it.
     */
    void hidden(float[] x, int xOff, int rows, float[] out, int ldo, int off, float[] gateRows) {
        up.forward(x, xOff, up.in(), rows, out, ldo, off);
        gate.forward(x, xOff, rows, gateRows, 0);
        Activations.siluGateRows(gateRows, rows, hidden, out, ldo, off);
    }

    /** The full MLP of rows of x (from element xOff): [rows, D] → b.projected, through b.mixed and b.gate. */
    void forward(float[] x, int xOff, int rows, BlockBuffers b) {
        hidden(x, xOff, rows, b.mixed, hidden, 0, b.gate);
        down.forward(b.mixed, rows, b.projected);
    }
}
