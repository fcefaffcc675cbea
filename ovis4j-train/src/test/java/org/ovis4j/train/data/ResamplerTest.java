package org.ovis4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ResamplerTest {
    /** The tent weight of input pixel i for output pixel o, over the whole axis (no window): the definition. */
    private static double[] naiveWeights(int in, int out, int o) {
        double scale = (double) in / out, support = Math.max(1, scale), centre = (o + 0.5) * scale, sum = 0;
        double[] w = new double[in];
        for (int i = 0; i < in; i++) {
            w[i] = Math.max(0, 1 - Math.abs(i + 0.5 - centre) / support);
            sum += w[i];
        }
        for (int i = 0; i < in; i++) w[i] /= sum;
        return w;
    }

    private static double[] naive(float[] x, int c, int h, int w, int oh, int ow) {
        double[] out = new double[c * oh * ow];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < oh; y++) {
                double[] wy = naiveWeights(h, oh, y);
                for (int xo = 0; xo < ow; xo++) {
                    double[] wx = naiveWeights(w, ow, xo);
                    double s = 0;
                    for (int j = 0; j < h; j++)
                        for (int i = 0; i < w; i++) s += wy[j] * wx[i] * x[(ch * h + j) * w + i];
                    out[(ch * oh + y) * ow + xo] = s;
                }
            }
        return out;
    }

    @Test
    void matchesTheDefinitionOnRandomImagesOfOddSizes() {
        Random r = new Random(3);
        int[][] cases = {{1, 1, 7, 33}, {7, 33, 1, 1}, {33, 7, 129, 5}, {129, 33, 33, 129}, {16, 16, 7, 7}, {5, 9, 17, 4}};
        for (int[] s : cases) {
            int h = s[0], w = s[1], oh = s[2], ow = s[3];
            float[] x = new float[3 * h * w];
            for (int i = 0; i < x.length; i++) x[i] = 255 * r.nextFloat();
            float[] got = Resampler.resize(x, 3, h, w, oh, ow);
            double[] want = naive(x, 3, h, w, oh, ow);
            for (int i = 0; i < got.length; i++)
                // one float rounding of a double result: half an ulp of values up to 255 (~1.5e-5), plus double sums
                assertEquals(want[i], got[i], 2e-5, h + "x" + w + " -> " + oh + "x" + ow + " at " + i);
        }
    }

    @Test
    void shrinkingAveragesUnderTheWidenedTent() {
        // 4 -> 2: output 0 is centred at input 1.0 with half-width 2, so inputs 0, 1, 2 weigh 3/4, 3/4, 1/4
        float[] got = Resampler.resize(new float[] {0, 10, 20, 30}, 1, 1, 4, 1, 2);
        assertArrayEquals(new float[] {(float) (12.5 / 1.75), (float) (40 / 1.75)}, got, 1e-5f);
    }

    @Test
    void enlargingIsBilinearWithHalfPixelCentres() {
        // 2 -> 4: output centres at 0.25, 0.75, 1.25, 1.75 against input centres 0.5 and 1.5 (tent half-width 1);
        // the two ends have one input pixel within reach and renormalise onto it
        float[] got = Resampler.resize(new float[] {0, 8}, 1, 1, 2, 1, 4);
        assertArrayEquals(new float[] {0, 2, 6, 8}, got, 1e-6f);
    }

    @Test
    void keepsConstantsAndTheSameSize() {
        float[] flat = new float[3 * 9 * 13];
        java.util.Arrays.fill(flat, 77.5f);
        for (float v : Resampler.resize(flat, 3, 9, 13, 4, 31)) assertEquals(77.5f, v, 1e-4f);
        float[] x = new float[] {1, 2, 3, 4, 5, 6};
        assertArrayEquals(x, Resampler.resize(x, 1, 2, 3, 2, 3));
    }
}
