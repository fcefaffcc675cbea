package org.ovis4j.server;

import java.nio.file.Path;
import java.time.Duration;
import org.ovis4j.core.OvisException;
import org.ovis4j.pipeline.Generation;
import org.ovis4j.server.api.Limits;

/** How {@code ovis4j serve} was asked to run; checked at once, before the model loads. */
public record ServerOptions(String host, int port, String apiKey, int queue, int maxWidth, int maxHeight, int maxSteps, Path data,
                            int workers, Duration shutdownGrace) {
    public ServerOptions {
        if (port < 0 || port > 65535) throw new OvisException("--port must be from 0 to 65535, got " + port);
        if (queue < 1 || queue > 100_000) throw new OvisException("--queue must be from 1 to 100000, got " + queue);
        checkSide("--max-size width", maxWidth);
        checkSide("--max-size height", maxHeight);
        if (maxSteps < 1 || maxSteps > 1000) throw new OvisException("--max-steps must be from 1 to 1000, got " + maxSteps);
        if (workers < 1 || workers > 64) throw new OvisException("--workers must be from 1 to 64, got " + workers);
        if (apiKey != null && apiKey.isBlank()) throw new OvisException("--api-key must not be empty");
    }

    private static void checkSide(String what, int v) {
        if (v < 16 || v > Generation.MAX_SIDE || v % 16 != 0)
            throw new OvisException(what + " must be a multiple of 16 from 16 to " + Generation.MAX_SIDE + ", got " + v);
    }

    /** "WxH" as --max-size takes it. */
    public static int[] parseSize(String s) {
        var m = java.util.regex.Pattern.compile("(\\d{1,5})x(\\d{1,5})").matcher(s);
        if (!m.matches()) throw new OvisException("--max-size must be WIDTHxHEIGHT (e.g. 1024x1024), got \"" + s + "\"");
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    public Limits limits() {
        return new Limits(maxWidth, maxHeight, maxSteps, Limits.DEFAULT_MAX_IMAGES, Limits.DEFAULT_MAX_PROMPT_CHARS, Limits.DEFAULT_MAX_BODY_BYTES);
    }

    /** Whether the address is reachable from other machines (then a key should be set). */
    public boolean loopbackOnly() {
        try {
            return java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            throw new OvisException("--host " + host + ": unknown host");
        }
    }
}
