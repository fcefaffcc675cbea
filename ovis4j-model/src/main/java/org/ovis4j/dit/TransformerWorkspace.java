package org.ovis4j.dit;

/**
 * The activation buffers of transformer forwards, owned by the caller: one generation (or one
 * training step) creates it, passes it to every forward, and drops it when done. Every denoising
 * step has the same shapes, so the buffers of the first forward serve all the others; a forward of
 * another shape replaces them. At 1024x1024 they are about 1 GiB per sample, which is why the
 * pipeline drops its workspace between denoising and decoding. Not for concurrent forwards: give
 * each thread its own.
 */
public final class TransformerWorkspace {
    private BlockBuffers buffers;

    /** Buffers for {@code samples} x {@code perSample} rows of width {@code dim} (MLP {@code hidden}), reused when they fit exactly. */
    BlockBuffers buffers(int samples, int perSample, int dim, int hidden) {
        BlockBuffers b = buffers;
        if (b == null || b.samples != samples || b.perSample != perSample || b.dim != dim || b.hidden != hidden) {
            buffers = null; // let buffers of another shape go before allocating
            buffers = b = new BlockBuffers(samples, perSample, dim, hidden);
        }
        return b;
    }

    /** Drops the buffers (the next forward allocates new ones). */
    public void release() {
        buffers = null;
    }
}
