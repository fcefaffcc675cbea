package org.ovis4j.train.ops;

import static org.ovis4j.train.testing.GradCheck.*;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.kernel.Rope;

class RopeOpTest {
    /** One rotation: two float32 products and a sum per value. */
    private static final double TOL = 1e-6;

    /**
     * The definition: interleaved pairs (2j, 2j+1); rotate-half as transformers writes it,
     * y = x·[cos, cos] + rotate_half(x)·[sin, sin] with rotate_half(x) = [−x₂, x₁].
     */
    static double[] naive(double[] x, float[] cos, float[] sin, int rows, int heads, int hd, int tableRows, RopeOp.Pairing pairing) {
        double[] y = new double[x.length];
        int half = hd / 2;
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++) {
                int o = (r * heads + h) * hd, t0 = (r % tableRows) * half;
                for (int e = 0; e < hd; e++) {
                    if (pairing == RopeOp.Pairing.INTERLEAVED) {
                        int j = e / 2, i = o + 2 * j, t = t0 + j;
                        y[o + e] = e % 2 == 0 ? x[i] * cos[t] - x[i + 1] * sin[t] : x[i + 1] * cos[t] + x[i] * sin[t];
                    } else {
                        int t = t0 + e % half;
                        double rot = e < half ? -x[o + e + half] : x[o + e - half];
                        y[o + e] = x[o + e] * cos[t] + rot * sin[t];
                    }
                }
            }
        return y;
    }

    @Test
    void forwardAndBackwardMatchNaiveLoopsAndFiniteDifferences() {
        Random rnd = new Random(51);
        for (RopeOp.Pairing pairing : RopeOp.Pairing.values())
        for (int tableRows : SIZES)
            for (int heads : new int[] {1, 3})
                for (int hd : new int[] {2, 6, 16}) {
                    int rows = 2 * tableRows; // two samples sharing the table
                    String at = pairing + " " + rows + "x" + heads + "x" + hd;
                    float[] angle = random(rnd, tableRows * hd / 2), cos = new float[angle.length], sin = new float[angle.length];
                    for (int i = 0; i < angle.length; i++) {
                        cos[i] = (float) Math.cos(3 * angle[i]);
                        sin[i] = (float) Math.sin(3 * angle[i]);
                    }
                    float[] x = random(rnd, rows * heads * hd), r = random(rnd, x.length), y = new float[x.length];
                    double[] xd = toDouble(x);
                    RopeOp.forward(x, rows, heads, hd, cos, sin, tableRows, pairing, y);
                    assertClose("y " + at, naive(xd, cos, sin, rows, heads, hd, tableRows, pairing), y, TOL);
                    float[] dx = r.clone();
                    RopeOp.backward(dx, rows, heads, hd, cos, sin, tableRows, pairing, dx);
                    assertClose("dx fd " + at, numeric(xd, v -> dot(naive(v, cos, sin, rows, heads, hd, tableRows, pairing), r), 60), dx, TOL);
                }
    }

    /** Same rotation as the inference kernel (which works in place on a table repeated per sample). */
    @Test
    void forwardEqualsTheInferenceKernel() {
        Random rnd = new Random(52);
        int rows = 7, heads = 3, hd = 16;
        float[] cos = random(rnd, rows * hd / 2), sin = random(rnd, rows * hd / 2);
        float[] x = random(rnd, rows * heads * hd), y = new float[x.length], ref = x.clone();
        RopeOp.forward(x, rows, heads, hd, cos, sin, rows, y);
        Rope.applyInterleaved(ref, rows, heads, hd, cos, sin);
        org.junit.jupiter.api.Assertions.assertArrayEquals(ref, y);
    }

    @Test
    void rotateHalfEqualsTheInferenceKernel() {
        Random rnd = new Random(53);
        int rows = 7, heads = 3, hd = 16;
        float[] cos = random(rnd, rows * hd / 2), sin = random(rnd, rows * hd / 2);
        float[] x = random(rnd, rows * heads * hd), y = new float[x.length], ref = x.clone();
        RopeOp.forward(x, rows, heads, hd, cos, sin, rows, RopeOp.Pairing.HALVES, y);
        Rope.applyRotateHalf(ref, rows, heads, hd, cos, sin);
        org.junit.jupiter.api.Assertions.assertArrayEquals(ref, y);
    }
}
