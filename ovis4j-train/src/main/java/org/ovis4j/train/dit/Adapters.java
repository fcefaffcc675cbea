package org.ovis4j.train.dit;

/**
 * What the model under training puts in place of each dense module when it is built: the module
 * itself (full fine-tuning), or an adapter over it (LoRA, which also freezes the base). Decided once,
 * at construction; nothing switches later.
 */
@FunctionalInterface
public interface Adapters {
    /** The projection to use for {@code base} (its module path is {@code base.module()}). */
    Projection adapt(DenseProjection base);

    /** Called once the model is built, after every module was seen: a chance to report targets that were not. */
    default void finish() {}

    /** Every module as it is. */
    Adapters NONE = base -> base;
}
