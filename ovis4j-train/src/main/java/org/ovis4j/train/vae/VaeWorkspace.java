package org.ovis4j.train.vae;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import org.ovis4j.train.ops.ConvBuffers;

/**
 * The temporaries of one training step's VAE passes: recomputed activations and gradients that live
 * only inside one stage's forward or backward, in named slots so that a stage never hands out a
 * buffer its caller still holds. Arrays grow to the largest size asked for and are reused by every
 * stage and step; their contents are garbage between uses.
 */
final class VaeWorkspace {
    enum Slot {
        /** The gradient at a stage's input and output, alternately (the backward walks the stages). */
        GRAD_A, GRAD_B,
        /** A normalised-and-activated input rebuilt for a convolution's backward, and its gradient. */
        ACT, ACT_GRAD,
        /** The gradient between a resnet's two convolutions. */
        MID_GRAD,
        /** The shortcut's output in a resnet's forward. */
        SHORTCUT,
        /** The ×2 upsampled map ahead of an upsampler's convolution, and its gradient. */
        UP, UP_GRAD,
        /** The mid-block attention's gradients at its output projection's input and at q, k, v. */
        ATTN_OUT_GRAD, Q_GRAD, K_GRAD, V_GRAD
    }

    private final Map<Slot, float[]> arrays = new EnumMap<>(Slot.class);
    final ConvBuffers conv = new ConvBuffers();

    /** The slot's array, at least n long; contents are garbage. */
    float[] get(Slot slot, int n) {
        float[] a = arrays.get(slot);
        if (a == null || a.length < n) {
            a = new float[n];
            arrays.put(slot, a);
        }
        return a;
    }

    /** As {@link #get}, with the first n values zeroed (for gradients that are added to). */
    float[] zeroed(Slot slot, int n) {
        float[] a = get(slot, n);
        Arrays.fill(a, 0, n, 0f);
        return a;
    }
}
