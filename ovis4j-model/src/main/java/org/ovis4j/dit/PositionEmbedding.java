package org.ovis4j.dit;

/**
 * The 3-axis RoPE table: for L positions (text rows first, then image patches) and head dim Dh, one
 * angle per interleaved pair. Axis a covers a slice of the head dims; its frequencies are
 * theta^(−2j/d_a). Computed in double precision and rounded once to float, as diffusers does.
 */
public final class PositionEmbedding {
    public final float[] cos, sin;
    public final int rows, half;

    private PositionEmbedding(int rows, int half) {
        this.rows = rows;
        this.half = half;
        this.cos = new float[rows * half];
        this.sin = new float[rows * half];
    }

    /** ids [L, 3] row-major. */
    public static PositionEmbedding of(float[] ids, int rows, int[] axesDims, double theta) {
        int headDim = 0;
        for (int d : axesDims) headDim += d;
        PositionEmbedding pe = new PositionEmbedding(rows, headDim / 2);
        for (int r = 0; r < rows; r++) {
            int j0 = r * pe.half;
            for (int a = 0; a < axesDims.length; a++) {
                int d = axesDims[a];
                double pos = ids[r * 3 + a];
                for (int j = 0; j < d / 2; j++) {
                    double freq = 1.0 / Math.pow(theta, (2.0 * j) / d);
                    double angle = pos * freq;
                    pe.cos[j0 + j] = (float) Math.cos(angle);
                    pe.sin[j0 + j] = (float) Math.sin(angle);
                }
                j0 += d / 2;
            }
        }
        return pe;
    }

    /** Text ids (0, i, i) for i in [0, textRows) followed by image ids (0, r, c) over a gridH x gridW patch grid. */
    public static float[] ids(int textRows, int gridH, int gridW) {
        float[] ids = new float[(textRows + gridH * gridW) * 3];
        for (int i = 0; i < textRows; i++) {
            ids[i * 3 + 1] = i;
            ids[i * 3 + 2] = i;
        }
        for (int r = 0; r < gridH; r++)
            for (int c = 0; c < gridW; c++) {
                int o = (textRows + r * gridW + c) * 3;
                ids[o + 1] = r;
                ids[o + 2] = c;
            }
        return ids;
    }
}
