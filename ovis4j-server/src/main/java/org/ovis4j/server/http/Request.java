package org.ovis4j.server.http;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Matcher;
import org.ovis4j.core.json.Json;

/**
 * One HTTP exchange as a handler sees it: the path's captured parts, the body read within a
 * size limit and decoded strictly, and the ways to answer. A handler answers exactly once.
 */
public final class Request {
    /** JSON nesting deeper than this is refused before parsing: the parser recurses once per level. */
    static final int MAX_JSON_DEPTH = 32;

    private final HttpExchange exchange;
    private final Matcher path;
    private final long maxBodyBytes;
    private boolean answered;

    Request(HttpExchange exchange, Matcher path, long maxBodyBytes) {
        this.exchange = exchange;
        this.path = path;
        this.maxBodyBytes = maxBodyBytes;
    }

    public HttpExchange exchange() { return exchange; }

    /** The path's n-th captured group. */
    public String pathPart(int n) { return path.group(n); }

    public String header(String name) { return exchange.getRequestHeaders().getFirst(name); }

    /** The base of absolute URLs handed back to this client: {@code http://} and the Host it used. */
    public String baseUrl() {
        String host = header("Host");
        if (host == null || host.isBlank() || !host.matches("[A-Za-z0-9.:\\[\\]-]{1,300}")) {
            var a = exchange.getLocalAddress();
            host = (a.getAddress() instanceof java.net.Inet6Address ? "[" + a.getAddress().getHostAddress() + "]" : a.getAddress().getHostAddress())
                    + ":" + a.getPort();
        }
        return "http://" + host;
    }

    /** A query parameter's value, or null. */
    public String query(String name) {
        String q = exchange.getRequestURI().getRawQuery();
        if (q == null) return null;
        for (String pair : q.split("&")) {
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            if (k.equals(name)) return eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        }
        return null;
    }

    /**
     * A body over the limit is still read (and dropped) up to this size before the 413 is sent, so
     * that an ordinary client, which writes its whole body before it reads, gets the answer rather
     * than a reset connection; beyond it the connection is closed unread.
     */
    static final long DRAIN_LIMIT = 16L << 20;

    /**
     * The body, at most the limit: a larger declared length is refused before it is kept, a longer
     * body without one (chunked) once the limit is passed. Either way 413.
     */
    public byte[] body() throws IOException {
        String declared = header("Content-Length");
        InputStream in = exchange.getRequestBody();
        if (declared != null) {
            long n;
            try {
                n = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                throw new ApiException(400, "invalid_request", null, "Content-Length is not a number");
            }
            if (n > maxBodyBytes) {
                if (n <= DRAIN_LIMIT) drain(in);
                throw tooLarge();
            }
        }
        byte[] data = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
        if (data.length > maxBodyBytes) {
            drain(in);
            throw tooLarge();
        }
        return data;
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buf = new byte[64 << 10];
        long left = DRAIN_LIMIT;
        for (int r; left > 0 && (r = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0; ) left -= r;
    }

    private ApiException tooLarge() {
        return new ApiException(413, "body_too_large", null, "request body is over the limit of " + maxBodyBytes + " bytes");
    }

    /** The body as one JSON object: strictly UTF-8 (invalid bytes are named, never replaced), bounded nesting. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> jsonObject() throws IOException {
        byte[] bytes = body();
        String contentType = header("Content-Type");
        if (contentType != null && !contentType.toLowerCase().startsWith("application/json"))
            throw new ApiException(415, "unsupported_media_type", null, "Content-Type must be application/json, not " + oneLine(contentType));
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ApiException(400, "invalid_utf8", null, "request body is not valid UTF-8 (byte " + firstInvalidByte(bytes) + ")");
        }
        if (text.isBlank()) throw new ApiException(400, "invalid_json", null, "request body is empty; expected a JSON object");
        if (depth(text) > MAX_JSON_DEPTH) throw new ApiException(400, "invalid_json", null, "JSON nested deeper than " + MAX_JSON_DEPTH + " levels");
        Object v;
        try {
            v = Json.parse(text);
        } catch (Json.JsonException e) {
            throw new ApiException(400, "invalid_json", null, e.getMessage());
        }
        if (!(v instanceof Map)) throw new ApiException(400, "invalid_json", null, "request body must be a JSON object");
        return (Map<String, Object>) v;
    }

    /** The deepest nesting of arrays and objects, brackets inside strings not counted. */
    static int depth(String s) {
        int depth = 0, max = 0;
        boolean inString = false;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (inString) {
                if (c == '\\') k++;
                else if (c == '"') inString = false;
            } else if (c == '"') inString = true;
            else if (c == '{' || c == '[') max = Math.max(max, ++depth);
            else if (c == '}' || c == ']') depth--;
        }
        return max;
    }

    /** The offset of the first byte that does not start or continue a valid UTF-8 sequence. */
    static int firstInvalidByte(byte[] b) {
        var d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(b);
        var out = java.nio.CharBuffer.allocate(b.length + 1);
        d.decode(in, out, true);
        return in.position();
    }

    static String oneLine(String s) {
        String t = s.replaceAll("[\\p{Cntrl}]", "?");
        return t.length() > 80 ? t.substring(0, 80) + "..." : t;
    }

    public boolean answered() { return answered; }

    /** Answers with a JSON document. */
    public void json(int status, Object body) throws IOException {
        send(status, "application/json", Json.write(body, 0).getBytes(StandardCharsets.UTF_8), Map.of());
    }

    public void json(int status, Object body, Map<String, String> headers) throws IOException {
        send(status, "application/json", Json.write(body, 0).getBytes(StandardCharsets.UTF_8), headers);
    }

    /** Answers with bytes of a content type. */
    public void send(int status, String contentType, byte[] body, Map<String, String> headers) throws IOException {
        if (answered) throw new IllegalStateException("answered twice");
        answered = true;
        var h = exchange.getResponseHeaders();
        h.set("Content-Type", contentType);
        h.set("X-Content-Type-Options", "nosniff");
        headers.forEach(h::set);
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Starts a streamed answer (Server-Sent Events); the caller writes and closes the stream. */
    public OutputStream stream(int status, String contentType) throws IOException {
        if (answered) throw new IllegalStateException("answered twice");
        answered = true;
        var h = exchange.getResponseHeaders();
        h.set("Content-Type", contentType);
        h.set("Cache-Control", "no-cache");
        exchange.sendResponseHeaders(status, 0);
        return exchange.getResponseBody();
    }

    int status() { return exchange.getResponseCode(); }
}
