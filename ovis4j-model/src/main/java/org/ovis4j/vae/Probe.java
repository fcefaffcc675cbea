package org.ovis4j.vae;

/**
 * Sees intermediate activations as they are produced, named as the diffusers sub-module whose output
 * they are ({@code decoder.conv_in}, {@code decoder.up_blocks.2}, {@code encoder.conv_norm_out}, ...).
 * For tests and debugging; the map is live (copy it to keep it).
 */
@FunctionalInterface
public interface Probe {
    Probe NONE = (name, map) -> {};

    void accept(String name, FeatureMap map);
}
