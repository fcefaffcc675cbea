package org.ovis4j.server.http;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.ovis4j.core.json.Json;

/**
 * Server-Sent Events on an open response: {@code event: NAME} and one {@code data:} line of JSON
 * per event, flushed at once so that a browser's progress bar moves with the steps; comments keep
 * an idle stream alive and reveal a client that left.
 */
public final class EventStream implements AutoCloseable {
    private final OutputStream out;

    public EventStream(OutputStream out) {
        this.out = out;
    }

    public void send(String event, Object data) throws IOException {
        // Json.write escapes line breaks inside strings, so the data is always one line.
        out.write(("event: " + event + "\ndata: " + Json.write(data, 0) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    public void keepAlive() throws IOException {
        out.write(": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
