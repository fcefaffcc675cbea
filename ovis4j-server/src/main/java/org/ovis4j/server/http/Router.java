package org.ovis4j.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Dispatches requests by method and path to handlers, and is the one place where the HTTP rules
 * common to every route live: the API key, 404 and 405, and turning an {@link ApiException} into
 * its JSON error. Any other exception is a bug: it is logged and answered with a 500.
 */
public final class Router implements HttpHandler {
    /** A route's work; it answers through the {@link Request}. */
    public interface Handler {
        void handle(Request request) throws IOException;
    }

    private record Route(String method, Pattern path, boolean open, Handler handler) {}

    private final List<Route> routes = new ArrayList<>();
    private final BearerKey key;
    private final long maxBodyBytes;
    private final IntConsumer statusCounter;

    /**
     * @param key           null for no key
     * @param statusCounter told every answered status (for the metrics)
     */
    public Router(BearerKey key, long maxBodyBytes, IntConsumer statusCounter) {
        this.key = key;
        this.maxBodyBytes = maxBodyBytes;
        this.statusCounter = statusCounter;
    }

    /** A route that needs the API key when one is set. */
    public Router route(String method, String pathRegex, Handler handler) {
        routes.add(new Route(method, Pattern.compile(pathRegex), false, handler));
        return this;
    }

    /** A route open to everyone (the page and its files, the health check). */
    public Router open(String method, String pathRegex, Handler handler) {
        routes.add(new Route(method, Pattern.compile(pathRegex), true, handler));
        return this;
    }

    @Override
    public void handle(HttpExchange exchange) {
        // The exchange closes after the error answer, not before it (try-with-resources closes before catch).
        try (exchange) {
            dispatch(exchange);
        }
    }

    private void dispatch(HttpExchange exchange) {
        Request request = null;
        try {
            String path = exchange.getRequestURI().getRawPath();
            String method = exchange.getRequestMethod();
            Set<String> allowed = new LinkedHashSet<>();
            for (Route r : routes) {
                Matcher m = r.path.matcher(path);
                if (!m.matches()) continue;
                if (!r.method.equals(method)) {
                    allowed.add(r.method);
                    continue;
                }
                request = new Request(exchange, m, maxBodyBytes);
                if (!r.open && key != null && !key.accepts(request.header("Authorization")))
                    throw new ApiException(401, "unauthorized", null, "missing or wrong API key (send Authorization: Bearer KEY)")
                            .header("WWW-Authenticate", "Bearer");
                r.handler.handle(request);
                if (!request.answered()) throw new IllegalStateException("route " + r.path + " did not answer");
                statusCounter.accept(exchange.getResponseCode());
                return;
            }
            request = new Request(exchange, null, maxBodyBytes);
            if (!allowed.isEmpty())
                throw new ApiException(405, "method_not_allowed", null, method.length() > 16 ? "method not allowed" : method + " is not allowed here")
                        .header("Allow", String.join(", ", allowed));
            throw new ApiException(404, "not_found", null, "no such resource");
        } catch (ApiException e) {
            answer(request, exchange, e);
        } catch (IOException e) {
            // The client went away or sent a broken request body: nobody is left to answer.
            statusCounter.accept(499);
        } catch (RuntimeException | Error e) {
            System.err.println("ovis4j: internal error on " + exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawPath() + ": " + e);
            if (System.getenv("OVIS4J_DEBUG") != null) e.printStackTrace();
            answer(request, exchange, new ApiException(500, "internal_error", null, "internal error: " + e.getClass().getSimpleName()));
        }
    }

    private void answer(Request request, HttpExchange exchange, ApiException e) {
        statusCounter.accept(e.status());
        if (request != null && request.answered()) return; // a stream that failed midway: its status is sent
        try {
            Request r = request != null ? request : new Request(exchange, null, maxBodyBytes);
            // An error before the body was read leaves it unread: the connection cannot be reused safely.
            if (e.status() == 413) exchange.getResponseHeaders().set("Connection", "close");
            r.json(e.status(), e.toJson(), e.headers());
        } catch (IOException | RuntimeException ignored) {
            // the client is gone
        }
    }
}
