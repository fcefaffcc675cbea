package org.ovis4j.checkpoint;

import org.ovis4j.core.tensor.Tensor;

/**
 * The weights of one model component, addressed by the diffusers/transformers names whatever the
 * layout on disk. Tensors are views of the memory-mapped files; {@link #rows} selects a block of
 * rows (output channels) without copying, which is how fused original-layout tensors (qkv, linear1)
 * and split diffusers tensors (SwiGLU up/gate halves) meet.
 */
public interface Weights {
    /** The whole tensor; errors name the component and the tensor. */
    Tensor get(String name);

    /** Rows [from, to) of the named tensor along its first dimension. */
    Tensor rows(String name, long from, long to);

    boolean has(String name);

    /** What these weights were loaded from, for messages. */
    String origin();
}
