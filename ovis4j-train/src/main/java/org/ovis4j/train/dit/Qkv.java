package org.ovis4j.train.dit;

import java.util.function.UnaryOperator;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.train.ops.RmsNormOp;
import org.ovis4j.train.param.Parameter;

/** The query, key and value projections of one token stream, with RMSNorm per head on queries and keys. */
final class Qkv {
    final Projection q, k, v;
    final Parameter normQ, normK;

    /** What the backward reads: the projections' outputs before the QK norms, and the norms' 1/rms per (row, head). */
    static final class Saved {
        float[] qRaw, kRaw, qRstd, kRstd;
    }

    /** The outputs: normed queries and keys, values; [rows, D] each. */
    record Out(float[] q, float[] k, float[] v) {}

    Qkv(Projection q, Projection k, Projection v, Parameter normQ, Parameter normK) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.normQ = normQ;
        this.normK = normK;
    }

    /** The same stream with each projection replaced by {@code f} of it (the norms shared). */
    Qkv map(UnaryOperator<Projection> f) {
        return new Qkv(f.apply(q), f.apply(k), f.apply(v), normQ, normK);
    }

    Out forward(Dims d, float[] x, int rows, Saved saved) {
        int w = d.dim(), heads = rows * d.heads();
        saved.qRaw = new float[rows * w];
        saved.kRaw = new float[rows * w];
        float[] vOut = new float[rows * w], qn = new float[rows * w], kn = new float[rows * w];
        q.forward(x, rows, saved.qRaw);
        k.forward(x, rows, saved.kRaw);
        v.forward(x, rows, vOut);
        saved.qRstd = new float[heads];
        saved.kRstd = new float[heads];
        RmsNormOp.forward(saved.qRaw, 0, heads, d.headDim(), normQ.value(), TransformerConfig.EPS, qn, 0, saved.qRstd, 0);
        RmsNormOp.forward(saved.kRaw, 0, heads, d.headDim(), normK.value(), TransformerConfig.EPS, kn, 0, saved.kRstd, 0);
        return new Out(qn, kn, vOut);
    }

    /**
     * From the gradients of the normed queries, keys and values (dq and dk are overwritten): the norm
     * weights' and projections' gradients, and dX added into dx (written first when !accumulate).
     */
    void backward(Dims d, Saved saved, float[] x, int rows, float[] dq, float[] dk, float[] dv, float[] dx, boolean accumulate) {
        int heads = rows * d.heads();
        RmsNormOp.backward(saved.qRaw, 0, heads, d.headDim(), normQ.value(), saved.qRstd, 0, dq, 0, dq, 0, normQ.grad());
        RmsNormOp.backward(saved.kRaw, 0, heads, d.headDim(), normK.value(), saved.kRstd, 0, dk, 0, dk, 0, normK.grad());
        q.backward(x, rows, dq, dx, accumulate);
        k.backward(x, rows, dk, dx, true);
        v.backward(x, rows, dv, dx, true);
    }
}
