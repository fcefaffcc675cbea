package org.ovis4j.dit;

import org.ovis4j.checkpoint.Projections;
import org.ovis4j.core.kernel.Activations;
import org.ovis4j.core.kernel.Projection;

/** SwiGLU MLP: down(up(x) ⊙ SiLU(gate(x))), with up and gate the two row halves of one projection. */
final class FeedForward {
    private final Projection up, gate, down;
    private final int hidden;

    /** {@code inName} holds [up; gate] rows (diffusers ff.net.0.proj / proj_mlp), each {@code hidden} wide. */
    FeedForward(Projections m, String inName, int hidden, String downName) {
        this.hidden = hidden;
        up = m.rows(inName, 0, hidden);
        gate = m.rows(inName, hidden, 2L * hidden);
        down = downName == null ? null : m.of(downName);
    }

    /**
     * The gated hidden activations of rows of x (from element xOff, width D) written at row stride
     * ldo, column offset off of out: the up half goes straight there and the gate half, through
     * {@code gateRows} [rows, F], is folded into it.
     */
    void hidden(float[] x, int xOff, int rows, float[] out, int ldo, int off, float[] gateRows) {
        up.forward(x, xOff, up.in(), rows, out, off, ldo);
        gate.forward(x, xOff, rows, gateRows, 0);
        Activations.siluGateRows(gateRows, rows, hidden, out, ldo, off);
    }

    /** The full MLP of rows of x (from element xOff): [rows, D] → b.projected, through b.mixed and b.gate. */
    void forward(float[] x, int xOff, int rows, BlockBuffers b) {
        hidden(x, xOff, rows, b.mixed, hidden, 0, b.gate);
        down.forward(b.mixed, rows, b.projected);
    }
}
