package org.ovis4j.spring.ai;

import org.ovis4j.core.OvisException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns an {@link OvisException} that stops the application (a wrong {@code spring.ai.ovis4j.*}
 * value, a broken checkpoint) into Boot's short failure report: its one-line message, instead of the
 * stack of bean-creation exceptions around it.
 */
public class Ovis4jFailureAnalyzer extends AbstractFailureAnalyzer<OvisException> {
    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, OvisException cause) {
        return new FailureAnalysis("ovis4j: " + cause.getMessage(),
                "Check the spring.ai.ovis4j.* properties (model, precision, threads, options) and the checkpoint folder.", cause);
    }
}
