package org.ovis4j.train.ops;

import org.ovis4j.core.parallel.Parallel;

/**
 * Nearest-neighbour ×2 upsampling of channels-last maps x [B, H, W, C] → y [B, 2H, 2W, C] (every
 * pixel becomes a 2×2 block, as {@code F.interpolate(scale_factor=2, mode="nearest")}); its gradient
 * sums each 2×2 block of dY back onto the pixel.
 */
public final class UpsampleNearestOp {
    private UpsampleNearestOp() {}

    public static void forward(float[] x, int batch, int h, int w, int c, float[] y) {
        int w2 = 2 * w;
        Parallel.forEach(batch * h, line -> {
            int b = line / h, iy = line % h;
            int row = ((b * 2 * h) + 2 * iy) * w2 * c;
            for (int ix = 0; ix < w; ix++) {
                int src = ((b * h + iy) * w + ix) * c, dst = row + 2 * ix * c;
                System.arraycopy(x, src, y, dst, c);
                System.arraycopy(x, src, y, dst + c, c);
            }
            System.arraycopy(y, row, y, row + w2 * c, w2 * c);
        });
    }

    /** dx [B, H, W, C] += the 2×2 block sums of dy [B, 2H, 2W, C]. */
    public static void backward(float[] dy, int batch, int h, int w, int c, float[] dx) {
        int w2 = 2 * w;
        Parallel.forEach(batch * h, line -> {
            int b = line / h, iy = line % h;
            int top = ((b * 2 * h) + 2 * iy) * w2 * c, bottom = top + w2 * c;
            for (int ix = 0; ix < w; ix++) {
                int dst = ((b * h + iy) * w + ix) * c, left = 2 * ix * c, right = left + c;
                for (int ch = 0; ch < c; ch++)
                    dx[dst + ch] += (dy[top + left + ch] + dy[top + right + ch]) + (dy[bottom + left + ch] + dy[bottom + right + ch]);
            }
        });
    }
}
