package org.ovis4j.core;

/**
 * An error caused by the user's input or environment (a missing file, a malformed checkpoint, a bad
 * argument). Its message is one line that names what is wrong and where; the command line prints
 * only that line unless asked to be verbose.
 */
public class OvisException extends RuntimeException {
    public OvisException(String message) {
        super(message);
    }

    public OvisException(String message, Throwable cause) {
        super(message, cause);
    }
}
