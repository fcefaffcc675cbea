package org.ovis4j.train.dit;

/**
 * The gradients of a loss with respect to the transformer's inputs.
 *
 * @param latents d loss / d x_σ [samples, imageTokens, in_channels]
 * @param text    d loss / d prompt embeddings [samples, textTokens, joint_attention_dim]
 */
public record InputGradients(float[] latents, float[] text) {}
