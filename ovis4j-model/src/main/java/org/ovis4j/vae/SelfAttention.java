package org.ovis4j.vae;

import java.util.Arrays;
import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.AttentionKernel;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.kernel.Projection;
import org.ovis4j.core.tensor.Tensor;

/**
 * The mid-block attention (spec 5a): one head over all C channels, every pixel a token.
 * t = GN(x); q, k, v = per-pixel linear C→C of t; y = x + to_out(softmax(q·kᵀ/√C)·v). No mask.
 * The projections are diffusers Linear weights [C, C] or BFL 1×1 convs [C, C, 1, 1]; both are read as [C, C].
 */
final class SelfAttention {
    private final GroupNorm norm;
    private final Projection toQ, toK, toV, toOut;
    private final AttentionKernel attention;
    private final int c;

    SelfAttention(Weights w, ComputeContext context, String prefix, int channels, int groups) {
        this.c = channels;
        this.attention = context.attention();
        norm = new GroupNorm(w, prefix + "group_norm", channels, groups);
        toQ = projection(w, context, prefix + "to_q");
        toK = projection(w, context, prefix + "to_k");
        toV = projection(w, context, prefix + "to_v");
        toOut = projection(w, context, prefix + "to_out.0");
    }

    private Projection projection(Weights w, ComputeContext context, String name) {
        Tensor t = w.get(name + ".weight");
        long[] s = t.shape();
        boolean linear = s.length == 2 && s[0] == c && s[1] == c;
        boolean conv1x1 = s.length == 4 && s[0] == c && s[1] == c && s[2] == 1 && s[3] == 1;
        if (!linear && !conv1x1)
            throw new OvisException(t.name() + ": shape " + Arrays.toString(s) + ", expected [" + c + ", " + c
                    + "] or [" + c + ", " + c + ", 1, 1]");
        return context.projection(t.reshape(c, c), w.get(name + ".bias").expectShape(c));
    }

    /** A new map x + attention(x) from the workspace; x is left unchanged. */
    FeatureMap forward(FeatureMap x, Workspace ws) {
        int n = x.pixels();
        float[] t = ws.take(x.size()), q = ws.take(x.size()), k = ws.take(x.size()), v = ws.take(x.size());
        norm.forward(x, t);
        toQ.forward(t, n, q);
        toK.forward(t, n, k);
        toV.forward(t, n, v);
        float[] o = t; // the normalised input is no longer needed
        attention.attend(q, c, k, c, v, c, o, c, n, n, 1, 1, c, (float) (1.0 / Math.sqrt(c)), false, n);
        FeatureMap y = ws.map(x.h(), x.w(), c);
        System.arraycopy(x.data(), 0, y.data(), 0, x.size());
        toOut.forwardAdd(o, n, y.data());
        for (float[] a : new float[][] {t, q, k, v}) ws.give(a);
        return y;
    }
}
