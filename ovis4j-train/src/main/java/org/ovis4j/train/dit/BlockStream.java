package org.ovis4j.train.dit;

import java.util.function.UnaryOperator;
import org.ovis4j.train.ops.SwiGluOp;

/**
 * One token stream (text or image) of a double-stream block: its AdaLN modulation, q/k/v projections,
 * attention output projection and SwiGLU MLP (spec 3.5). The block runs the joint attention between
 * {@link #begin} and {@link #finish}.
 */
final class BlockStream {
    /** AdaLN chunks: shift, scale, gate of attention, then of the MLP. */
    static final int CHUNKS = 6, SHIFT1 = 0, SCALE1 = 1, GATE1 = 2, SHIFT2 = 3, SCALE2 = 4, GATE2 = 5;

    final Projection mod, out, ffIn, ffOut;
    final Qkv qkv;

    BlockStream(Projection mod, Qkv qkv, Projection out, Projection ffIn, Projection ffOut) {
        this.mod = mod;
        this.qkv = qkv;
        this.out = out;
        this.ffIn = ffIn;
        this.ffOut = ffOut;
    }

    /** The same stream with each projection replaced by {@code f} of it. */
    BlockStream map(UnaryOperator<Projection> f) {
        return new BlockStream(f.apply(mod), qkv.map(f), f.apply(out), f.apply(ffIn), f.apply(ffOut));
    }

    /** Everything this stream's backward reads; n rows per sample. */
    static final class Saved {
        int n;
        float[] in, mod;
        float[] mean1, rstd1, norm1;
        final Qkv.Saved qkv = new Qkv.Saved();
        float[] attn, projected, mid;
        float[] mean2, rstd2, norm2, hidden, gated, ff;
        float[] output;
    }

    /** Modulation, first LayerNorm and q/k/v of in [B·n, D]. */
    Qkv.Out begin(Dims d, float[] in, int n, float[] siluVec, Saved s) {
        int rows = d.samples() * n, w = d.dim();
        s.n = n;
        s.in = in;
        s.mod = new float[d.samples() * CHUNKS * w];
        mod.forward(siluVec, d.samples(), s.mod);
        s.norm1 = new float[rows * w];
        s.mean1 = new float[rows];
        s.rstd1 = new float[rows];
        Modulated.layerNorm(d, in, n, s.mod, CHUNKS, SHIFT1, SCALE1, s.norm1, s.mean1, s.rstd1);
        return qkv.forward(d, s.norm1, rows, s.qkv);
    }

    /** From this stream's attention rows [B·n, D]: output projection, gated residual, MLP, gated residual → s.output. */
    void finish(Dims d, float[] attn, Saved s) {
        int n = s.n, rows = d.samples() * n, w = d.dim(), f = d.hidden();
        s.attn = attn;
        s.projected = new float[rows * w];
        out.forward(attn, rows, s.projected);
        s.mid = Modulated.gatedAdd(d, s.in, s.projected, n, s.mod, CHUNKS, GATE1);
        s.norm2 = new float[rows * w];
        s.mean2 = new float[rows];
        s.rstd2 = new float[rows];
        Modulated.layerNorm(d, s.mid, n, s.mod, CHUNKS, SHIFT2, SCALE2, s.norm2, s.mean2, s.rstd2);
        s.hidden = new float[rows * 2 * f];
        ffIn.forward(s.norm2, rows, s.hidden);
        s.gated = new float[rows * f];
        SwiGluOp.forward(s.hidden, 0, 2 * f, rows, f, s.gated, 0, f);
        s.ff = new float[rows * w];
        ffOut.forward(s.gated, rows, s.ff);
        s.output = Modulated.gatedAdd(d, s.mid, s.ff, n, s.mod, CHUNKS, GATE2);
    }

    /**
     * The backward of {@link #finish}: dH holds d loss / d output and becomes d loss / d mid (the
     * residual passes through, the MLP branch's LayerNorm gradient is added); returns d loss / d attn.
     * Modulation gradients go into dmod.
     */
    float[] backwardFinish(Dims d, Saved s, float[] dH, float[] dmod) {
        int n = s.n, rows = d.samples() * n, w = d.dim(), f = d.hidden();
        float[] dff = Modulated.gatedAddBackward(d, dH, s.ff, n, s.mod, CHUNKS, GATE2, dmod);
        float[] dGated = new float[rows * f];
        ffOut.backward(s.gated, rows, dff, dGated, false);
        float[] dHidden = new float[rows * 2 * f];
        SwiGluOp.backward(s.hidden, 0, 2 * f, rows, f, dGated, 0, f, dHidden, 0, 2 * f);
        float[] dNorm2 = new float[rows * w];
        ffIn.backward(s.norm2, rows, dHidden, dNorm2, false);
        Modulated.layerNormBackward(d, s.mid, n, s.mod, CHUNKS, SHIFT2, SCALE2, s.mean2, s.rstd2, dNorm2, dH, dmod);
        float[] dProjected = Modulated.gatedAddBackward(d, dH, s.projected, n, s.mod, CHUNKS, GATE1, dmod);
        float[] dAttn = new float[rows * w];
        out.backward(s.attn, rows, dProjected, dAttn, false);
        return dAttn;
    }

    /**
     * The backward of {@link #begin}: from the gradients of the normed q, k and v (dq, dk overwritten),
     * adds d loss / d in into dH, and the modulation's gradients (dmod complete by now) into its
     * parameters and into dSiluVec.
     */
    void backwardBegin(Dims d, Saved s, float[] dq, float[] dk, float[] dv, float[] dH, float[] dmod,
                       float[] siluVec, float[] dSiluVec) {
        int n = s.n, rows = d.samples() * n, w = d.dim();
        float[] dNorm1 = new float[rows * w];
        qkv.backward(d, s.qkv, s.norm1, rows, dq, dk, dv, dNorm1, false);
        Modulated.layerNormBackward(d, s.in, n, s.mod, CHUNKS, SHIFT1, SCALE1, s.mean1, s.rstd1, dNorm1, dH, dmod);
        mod.backward(siluVec, d.samples(), dmod, dSiluVec, true);
    }
}
