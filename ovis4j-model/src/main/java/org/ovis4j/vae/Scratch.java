package org.ovis4j.vae;

/**
 * One reusable buffer for normalised activations within a single encode or decode call: every
 * GroupNorm whose input must survive (for a residual) writes here instead of into a fresh array.
 * Not shared between threads.
 */
final class Scratch {
    private float[] buffer = new float[0];

    /** A buffer of at least n values; its contents are garbage. */
    float[] get(int n) {
        if (buffer.length < n) {
            buffer = null; // let the old one go before allocating the larger one
            buffer = new float[n];
        }
        return buffer;
    }
}
