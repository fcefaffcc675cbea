package org.ovis4j.checkpoint;

/** The two published ways an Ovis-Image checkpoint folder is organised. */
public enum Layout {
    /** {@code model_index.json} with transformer/, text_encoder/, tokenizer/, vae/, scheduler/ sub-folders. */
    DIFFUSERS,
    /** {@code ovis_image.safetensors}, {@code ae.safetensors} and an {@code Ovis2.5-2B/} folder (official repo). */
    ORIGINAL
}
