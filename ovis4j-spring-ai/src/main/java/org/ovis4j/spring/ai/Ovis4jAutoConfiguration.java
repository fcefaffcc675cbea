package org.ovis4j.spring.ai;

import java.nio.file.Path;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.core.parallel.ThreadCount;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;
import org.springframework.ai.image.ImageModel;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;

/**
 * Loads the checkpoint of {@code spring.ai.ovis4j.model} once, as an {@link OvisImage} bean (closed
 * with the context), and serves it as an {@link Ovis4jImageModel}. Active unless
 * {@code spring.ai.model.image} names another provider (Spring AI's switch between image models);
 * an application's own {@link OvisImage} bean (one with LoRAs, say) is served instead of loading one.
 */
@AutoConfiguration
@ConditionalOnClass({ImageModel.class, OvisImage.class})
@ConditionalOnProperty(name = "spring.ai.model.image", havingValue = "ovis4j", matchIfMissing = true)
@EnableConfigurationProperties(Ovis4jProperties.class)
public class Ovis4jAutoConfiguration {

    /** The pipeline, loaded from {@link Ovis4jModelLocation#resolve}'s folder. */
    @Bean
    @ConditionalOnMissingBean
    public OvisImage ovis4jPipeline(Ovis4jProperties properties) {
        Path dir = Ovis4jModelLocation.resolve(properties.getModel(), properties.isPull(), org.ovis4j.hub.HubSettings.fromEnvironment());
        Precision precision = precision(properties.getPrecision());
        applyThreads(properties.getThreads());
        return OvisImage.load(dir, precision);
    }

    /** The Spring AI image model over the pipeline, with {@code spring.ai.ovis4j.options.*} as defaults. */
    @Bean
    @ConditionalOnMissingBean
    public Ovis4jImageModel ovis4jImageModel(OvisImage pipeline, Ovis4jProperties properties) {
        String name = properties.getModel() != null ? properties.getModel()
                : pipeline.folder().root().toAbsolutePath().normalize().getFileName().toString();
        try {
            return new Ovis4jImageModel(pipeline, properties.getOptions(), name);
        } catch (OvisException e) {
            throw new OvisException(Ovis4jProperties.PREFIX + ".options: " + e.getMessage());
        }
    }

    static Precision precision(String value) {
        try {
            return Precision.parse(value == null ? "bf16" : value.strip());
        } catch (OvisException e) {
            throw new OvisException(Ovis4jProperties.PREFIX + ".precision=" + value + ": " + e.getMessage());
        }
    }

    /**
     * Sets the compute pool's size through {@code -Dovis4j.threads}, which the pool reads when it
     * starts. The pool is process-wide (every model in the JVM shares its threads), so once it runs
     * another count cannot be had: that is an error rather than a silently different count.
     */
    static void applyThreads(Integer threads) {
        if (threads == null) return;
        String setting = Ovis4jProperties.PREFIX + ".threads";
        int n = ThreadCount.parse(setting, threads.toString());
        System.setProperty(ThreadCount.PROPERTY, Integer.toString(n));
        if (Parallel.threads() != n)
            throw new OvisException(setting + "=" + n + " but ovis4j's compute pool already runs " + Parallel.threads()
                    + " threads in this JVM (it is one per process and starts with the first model: set -D"
                    + ThreadCount.PROPERTY + "=" + n + " or " + ThreadCount.ENVIRONMENT + " instead)");
    }
}
