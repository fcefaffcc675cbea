package org.ovis4j.core.kernel;

import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.Tensor;

/**
 * A projection over one stored weight W [out, in] (float or Q8_0) and an optional bias, multiplied
 * by one backend in one {@link Storage}, both fixed when the layer is built (by
 * {@link ComputeContext#projection}).
 *
 * <p>The weights are prepared on the first multiply, not at construction: a loaded model prepares
 * only the layers it runs (a text-to-image run never touches the VAE encoder), and the first
 * transformer forward pays the repacking, as {@code bench} reports. After packing, the mapped
 * original is released from the process (it stays in the page cache), so each weight is resident
 * once. Preparing is idempotent and thread-safe; it is a cache of the same weights, not a mode.
 */
public final class DenseProjection implements Projection {
    /** How a layer's weights are held while it multiplies. */
    public enum Storage {
        /** Repacked once into the backend's own layout (the transformer and VAE). */
        PACKED,
        /**
         * Used where they are (memory-mapped), each block widened while multiplying: for models that
         * run few rows per call (the text encoder), where a packed copy would cost more memory than
         * the per-call widening costs time. Always the Java kernels ({@link JavaMatmul#inPlace}).
         */
        IN_PLACE,
        /** Quantized to int8 per output channel, activations per row at run time (W8A8). */
        INT8
    }

    private final Tensor weight;
    private final float[] bias;
    private final int in, out;
    private final MatmulBackend backend;
    private final Storage storage;
    private volatile MatmulBackend.Prepared prepared;

    DenseProjection(Tensor weight, Tensor bias, MatmulBackend backend, Storage storage) {
        if (weight.rank() != 2) throw new OvisException(weight.name() + ": expected a 2-D weight, got rank " + weight.rank());
        if (!weight.isWeight()) throw new OvisException(weight.name() + ": weights must be a float type or Q8_0, got " + weight.dtype());
        this.weight = weight;
        this.out = Math.toIntExact(weight.dim(0));
        this.in = Math.toIntExact(weight.dim(1));
        if (bias != null) bias.expectShape(out);
        this.bias = bias == null ? null : bias.toFloats();
        this.backend = backend;
        this.storage = storage;
    }

    @Override public int in() { return in; }
    @Override public int out() { return out; }
    public Tensor weight() { return weight; }
    public Storage storage() { return storage; }
    /** The backend that multiplies (java for in-place layers and weight types the context's backend does not take). */
    public MatmulBackend backend() { return backend; }

    @Override
    public void forward(float[] x, int xOff, int ldx, int rows, float[] y, int yOff, int ldy) {
        prepared().multiply(x, xOff, ldx, rows, bias, y, ldy, yOff, false);
    }

    @Override
    public void forwardAdd(float[] x, int xOff, int ldx, int rows, float[] y, int yOff, int ldy) {
        prepared().multiply(x, xOff, ldx, rows, null, y, ldy, yOff, true);
        if (bias != null)
            for (int r = 0; r < rows; r++) {
                int at = yOff + r * ldy;
                for (int j = 0; j < out; j++) y[at + j] += bias[j];
            }
    }

    private MatmulBackend.Prepared prepared() {
        MatmulBackend.Prepared p = prepared;
        if (p == null) {
            synchronized (this) {
                p = prepared;
                if (p == null) {
                    p = switch (storage) {
                        case IN_PLACE -> JavaMatmul.INSTANCE.inPlace(weight);
                        case PACKED -> backend.prepare(weight);
                        case INT8 -> backend.prepareInt8(weight);
                    };
                    // A prepared copy replaces the mapped pages (Q8_0 scales included); they stay in the page cache, not in our RSS.
                    if (storage != Storage.IN_PLACE) weight.releasePages();
                    prepared = p;
                }
            }
        }
        return p;
    }
}
