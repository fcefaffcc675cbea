package org.ovis4j.core.parallel;

import org.ovis4j.core.OvisException;

/**
 * The number of compute threads the user asked for: {@code -Dovis4j.threads=N}, else the environment
 * variable {@code OVIS4J_THREADS}, else every available processor. A value that is set but is not a
 * thread count is an error naming the setting: silently running on all cores when the user asked for
 * something else (a typo, {@code 4x}) would hide the mistake behind a slow or crowded run.
 */
public final class ThreadCount {
    public static final String PROPERTY = "ovis4j.threads";
    public static final String ENVIRONMENT = "OVIS4J_THREADS";
    /** A bound well above any CPU this runs on; a larger value is a typo, and the pool would start that many threads. */
    public static final int MAX = 4096;

    private ThreadCount() {}

    /** The configured count; an empty setting counts as unset (as {@code OVIS4J_THREADS= cmd} means in a shell). */
    public static int configured() {
        String property = System.getProperty(PROPERTY);
        if (property != null && !property.isBlank()) return parse("-D" + PROPERTY, property);
        String env = System.getenv(ENVIRONMENT);
        if (env != null && !env.isBlank()) return parse(ENVIRONMENT, env);
        return Runtime.getRuntime().availableProcessors();
    }

    /** {@code value} as a thread count from 1 to {@link #MAX}; the error names {@code setting}. */
    public static int parse(String setting, String value) {
        String v = value.strip();
        if (v.matches("[0-9]{1,9}")) {
            int n = Integer.parseInt(v);
            if (n >= 1 && n <= MAX) return n;
        }
        throw new OvisException(setting + "=" + value + " is not a number of threads (expected a whole number from 1 to " + MAX + ")");
    }
}
