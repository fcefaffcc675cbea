package org.ovis4j.train.dit;

import java.util.function.UnaryOperator;
import org.ovis4j.dit.PositionEmbedding;

/**
 * MMDiT double-stream block (spec 3.5) for training: text and image keep their own modulation,
 * projections and MLPs ({@link BlockStream}) and meet in one joint attention over each sample's
 * [text; image] rows. Both streams of all samples go through each matrix in one product.
 */
final class DoubleBlock {
    final BlockStream txt, img;

    DoubleBlock(BlockStream txt, BlockStream img) {
        this.txt = txt;
        this.img = img;
    }

    /** The same block with each projection replaced by {@code f} of it. */
    DoubleBlock map(UnaryOperator<Projection> f) {
        return new DoubleBlock(txt.map(f), img.map(f));
    }

    /** What the backward reads (its outputs, txt.output and img.output, are the next block's inputs). */
    static final class Saved {
        final BlockStream.Saved txt = new BlockStream.Saved(), img = new BlockStream.Saved();
        final JointAttention.Saved attn = new JointAttention.Saved();
    }

    /** The block on text rows [B·T, D] and image rows [B·N, D] (not changed); siluVec = SiLU(vec) [B, D]. */
    Saved forward(Dims d, float[] txtIn, float[] imgIn, float[] siluVec, PositionEmbedding pe) {
        Saved s = new Saved();
        int t = d.txt(), n = d.img(), size = d.rows() * d.dim();
        Qkv.Out a = txt.begin(d, txtIn, t, siluVec, s.txt), b = img.begin(d, imgIn, n, siluVec, s.img);
        float[] q = new float[size], k = new float[size], v = new float[size];
        d.scatter(a.q(), t, 0, q);
        d.scatter(b.q(), n, t, q);
        d.scatter(a.k(), t, 0, k);
        d.scatter(b.k(), n, t, k);
        d.scatter(a.v(), t, 0, v);
        d.scatter(b.v(), n, t, v);
        float[] out = JointAttention.forward(d, q, k, v, pe, s.attn);
        txt.finish(d, d.gather(out, t, 0), s.txt);
        img.finish(d, d.gather(out, n, t), s.img);
        return s;
    }

    /**
     * dTxt and dImg hold d loss / d outputs and become d loss / d inputs; parameter gradients are
     * added, and d loss / d siluVec into dSiluVec.
     */
    void backward(Dims d, Saved s, float[] dTxt, float[] dImg, float[] siluVec, float[] dSiluVec, PositionEmbedding pe) {
        int t = d.txt(), n = d.img(), modSize = d.samples() * BlockStream.CHUNKS * d.dim();
        float[] dModTxt = new float[modSize], dModImg = new float[modSize];
        float[] dAttnTxt = txt.backwardFinish(d, s.txt, dTxt, dModTxt), dAttnImg = img.backwardFinish(d, s.img, dImg, dModImg);
        float[] dOut = new float[d.rows() * d.dim()];
        d.scatter(dAttnTxt, t, 0, dOut);
        d.scatter(dAttnImg, n, t, dOut);
        float[][] g = JointAttention.backward(d, s.attn, dOut, pe);
        txt.backwardBegin(d, s.txt, d.gather(g[0], t, 0), d.gather(g[1], t, 0), d.gather(g[2], t, 0), dTxt, dModTxt, siluVec, dSiluVec);
        img.backwardBegin(d, s.img, d.gather(g[0], n, t), d.gather(g[1], n, t), d.gather(g[2], n, t), dImg, dModImg, siluVec, dSiluVec);
    }
}
