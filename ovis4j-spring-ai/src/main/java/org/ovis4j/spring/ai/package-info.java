/**
 * ovis4j inside Spring AI: {@link org.ovis4j.spring.ai.Ovis4jImageModel} implements Spring AI's
 * {@code ImageModel}, and {@link org.ovis4j.spring.ai.Ovis4jAutoConfiguration} makes one from the
 * {@code spring.ai.ovis4j.*} properties ({@link org.ovis4j.spring.ai.Ovis4jProperties}).
 */
package org.ovis4j.spring.ai;
