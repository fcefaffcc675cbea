package org.ovis4j.train.dit;

import java.util.function.UnaryOperator;
import org.ovis4j.dit.PositionEmbedding;
import org.ovis4j.train.ops.SwiGluOp;

/**
 * MMDiT single-stream block (spec 3.6) for training: one set of weights over the joint [text; image]
 * rows; attention and the SwiGLU MLP read the same normed input and share one output projection,
 * whose input is [attention (D) | MLP hidden (F)] per row.
 */
final class SingleBlock {
    /** AdaLN chunks: shift, scale, gate. */
    static final int CHUNKS = 3, SHIFT = 0, SCALE = 1, GATE = 2;

    final Projection mod, projMlp, projOut;
    final Qkv qkv;

    SingleBlock(Projection mod, Qkv qkv, Projection projMlp, Projection projOut) {
        this.mod = mod;
        this.qkv = qkv;
        this.projMlp = projMlp;
        this.projOut = projOut;
    }

    /** The same block with each projection replaced by {@code f} of it. */
    SingleBlock map(UnaryOperator<Projection> f) {
        return new SingleBlock(f.apply(mod), qkv.map(f), f.apply(projMlp), f.apply(projOut));
    }

    /** What the backward reads; output is the next block's input. */
    static final class Saved {
        float[] in, mod, mean, rstd, normed;
        final Qkv.Saved qkv = new Qkv.Saved();
        final JointAttention.Saved attn = new JointAttention.Saved();
        float[] hidden, mixed, projected;
        float[] output;
    }

    /** The block on the joint rows in [B·L, D] (not changed). */
    Saved forward(Dims d, float[] in, float[] siluVec, PositionEmbedding pe) {
        Saved s = new Saved();
        int rows = d.rows(), w = d.dim(), f = d.hidden(), l = d.len();
        s.in = in;
        s.mod = new float[d.samples() * CHUNKS * w];
        mod.forward(siluVec, d.samples(), s.mod);
        s.normed = new float[rows * w];
        s.mean = new float[rows];
        s.rstd = new float[rows];
        Modulated.layerNorm(d, in, l, s.mod, CHUNKS, SHIFT, SCALE, s.normed, s.mean, s.rstd);
        Qkv.Out o = qkv.forward(d, s.normed, rows, s.qkv);
        float[] attn = JointAttention.forward(d, o.q(), o.k(), o.v(), pe, s.attn);
        s.hidden = new float[rows * 2 * f];
        projMlp.forward(s.normed, rows, s.hidden);
        s.mixed = new float[rows * (w + f)];
        for (int r = 0; r < rows; r++) System.arraycopy(attn, r * w, s.mixed, r * (w + f), w);
        SwiGluOp.forward(s.hidden, 0, 2 * f, rows, f, s.mixed, w, w + f);
        s.projected = new float[rows * w];
        projOut.forward(s.mixed, rows, s.projected);
        s.output = Modulated.gatedAdd(d, in, s.projected, l, s.mod, CHUNKS, GATE);
        return s;
    }

    /** dH holds d loss / d output and becomes d loss / d input; parameter gradients and dSiluVec are added to. */
    void backward(Dims d, Saved s, float[] dH, float[] siluVec, float[] dSiluVec, PositionEmbedding pe) {
        int rows = d.rows(), w = d.dim(), f = d.hidden(), l = d.len();
        float[] dMod = new float[d.samples() * CHUNKS * w];
        float[] dProjected = Modulated.gatedAddBackward(d, dH, s.projected, l, s.mod, CHUNKS, GATE, dMod);
        float[] dMixed = new float[rows * (w + f)];
        projOut.backward(s.mixed, rows, dProjected, dMixed, false);
        float[] dAttn = new float[rows * w];
        for (int r = 0; r < rows; r++) System.arraycopy(dMixed, r * (w + f), dAttn, r * w, w);
        float[] dHidden = new float[rows * 2 * f];
        SwiGluOp.backward(s.hidden, 0, 2 * f, rows, f, dMixed, w, w + f, dHidden, 0, 2 * f);
        float[] dNormed = new float[rows * w];
        projMlp.backward(s.normed, rows, dHidden, dNormed, false);
        float[][] g = JointAttention.backward(d, s.attn, dAttn, pe);
        qkv.backward(d, s.qkv, s.normed, rows, g[0], g[1], g[2], dNormed, true);
        Modulated.layerNormBackward(d, s.in, l, s.mod, CHUNKS, SHIFT, SCALE, s.mean, s.rstd, dNormed, dH, dMod);
        mod.backward(siluVec, d.samples(), dMod, dSiluVec, true);
    }
}
