package org.ovis4j.spring.ai;

import org.springframework.ai.image.ImageGenerationMetadata;

/**
 * What one image was drawn with: with these values (and the same prompt and model) ovis4j draws
 * the same image again, on any machine.
 *
 * @param seed     seed of the initial noise
 * @param width    width in pixels
 * @param height   height in pixels
 * @param steps    denoising steps
 * @param guidance classifier-free guidance scale
 */
public record Ovis4jImageGenerationMetadata(long seed, int width, int height, int steps, float guidance)
        implements ImageGenerationMetadata {}
