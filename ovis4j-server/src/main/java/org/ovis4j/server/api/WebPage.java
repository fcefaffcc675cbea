package org.ovis4j.server.api;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import org.ovis4j.server.http.ApiException;
import org.ovis4j.server.http.Request;
import org.ovis4j.server.http.Router;

/** The web page at {@code /} and its script and style, from the jar: nothing is fetched from elsewhere. */
public final class WebPage {
    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "style.css", "text/css; charset=utf-8");
    /** The page only talks to this server; a browser must not load anything from elsewhere into it. */
    private static final String POLICY = "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'";

    public void register(Router r) {
        r.open("GET", "/", req -> file(req, "index.html"));
        r.open("GET", "/(app\\.js|style\\.css|index\\.html)", req -> file(req, req.pathPart(1)));
    }

    private void file(Request req, String name) throws IOException {
        byte[] bytes;
        try (InputStream in = WebPage.class.getResourceAsStream("/org/ovis4j/server/web/" + name)) {
            if (in == null) throw new ApiException(404, "not_found", null, "no such resource");
            bytes = in.readAllBytes();
        }
        req.send(200, FILES.get(name), bytes, Map.of("Content-Security-Policy", POLICY, "Cache-Control", "no-cache"));
    }
}
