package org.ovis4j.spring.ai;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.NestedConfigurationProperty;

/**
 * {@code spring.ai.ovis4j.*}: which checkpoint to load, how, and the default image options.
 *
 * <pre>
 * spring.ai.ovis4j.model=/models/Ovis-Image-7B
 * spring.ai.ovis4j.precision=bf16
 * spring.ai.ovis4j.threads=8
 * spring.ai.ovis4j.options.steps=30
 * spring.ai.ovis4j.options.width=768
 * </pre>
 *
 * <p>{@code model} is a checkpoint folder (see {@link Ovis4jModelLocation#resolve}); {@code precision}
 * fp32, bf16 (default) or int8; {@code threads} the compute threads (default: {@code OVIS4J_THREADS},
 * else every core); {@code options.*} the defaults of every request (n, width, height,
 * response-format, steps, guidance, seed, negative-prompt).
 */
@ConfigurationProperties(Ovis4jProperties.PREFIX)
public class Ovis4jProperties {
    public static final String PREFIX = "spring.ai.ovis4j";

    /** The checkpoint: a folder in either published layout (diffusers or original). */
    private String model;
    /** fp32 (float32 throughout, on the Java kernels), bf16 or int8 (W8A8 on oneDNN). */
    private String precision = "bf16";

    /** Download a hub id's files into the Hugging Face cache before loading (otherwise the cache alone is read). */
    private boolean pull;
    /** Compute threads (default: OVIS4J_THREADS, else every core); the pool is one per JVM. */
    private Integer threads;
    /** Defaults of every request; a request's own options override them field by field. */
    @NestedConfigurationProperty
    private Ovis4jImageOptions options = new Ovis4jImageOptions();

    /** The checkpoint: a folder in either published layout (diffusers or original). */
    public String getModel() { return model; }
    public void setModel(String model) { this.model = model; }

    /** fp32 (float32 throughout, on the Java kernels), bf16 (default) or int8 (W8A8 on oneDNN). */
    public boolean isPull() { return pull; }
    public void setPull(boolean pull) { this.pull = pull; }

    public String getPrecision() { return precision; }
    public void setPrecision(String precision) { this.precision = precision; }

    /**
     * Compute threads. The pool is one per JVM and starts with the first model, so this applies
     * only if no ovis4j model computed in this JVM before; otherwise it must equal the running count.
     */
    public Integer getThreads() { return threads; }
    public void setThreads(Integer threads) { this.threads = threads; }

    /** Defaults of every request; a request's own options override them field by field. */
    public Ovis4jImageOptions getOptions() { return options; }
    public void setOptions(Ovis4jImageOptions options) { this.options = options; }
}
