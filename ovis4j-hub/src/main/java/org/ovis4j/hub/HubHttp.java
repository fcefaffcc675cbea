package org.ovis4j.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;

/**
 * The Hub's HTTP protocol as huggingface_hub speaks it: the repository's file list from the API, each file's
 * metadata from a HEAD of its {@code resolve} URL, and the bytes from a GET of wherever that points.
 *
 * <ul>
 *   <li>{@code GET {endpoint}/api/models/{repo}/revision/{revision}}: {@code sha} (the commit) and
 *       {@code siblings[].rfilename} (the files).</li>
 *   <li>{@code HEAD {endpoint}/{repo}/resolve/{commit}/{path}}: {@code X-Repo-Commit}; the ETag from
 *       {@code X-Linked-Etag}, else {@code ETag} (weak marker and quotes dropped); the size from {@code X-Linked-Size},
 *       else {@code Content-Length} of a non-redirect. Relative redirects (a renamed repository) are followed; an
 *       absolute one (an LFS file on the CDN) is not: its {@code Location} is where the bytes are.</li>
 *   <li>The token goes to the endpoint only: a download from another host (the CDN's signed URL) is sent without it.</li>
 * </ul>
 *
 * Errors are one line naming what failed and what to do, from the status and the Hub's {@code X-Error-Code} /
 * {@code X-Error-Message} headers (huggingface_hub's {@code hf_raise_for_status}).
 */
final class HubHttp implements AutoCloseable {
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Time to the response headers (huggingface_hub's HF_HUB_ETAG_TIMEOUT is 10 s; the CDN may take longer to start). */
    private static final Duration HEADERS_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_REDIRECTS = 10;
    private static final String USER_AGENT = "ovis4j/" + Objects.requireNonNullElse(HubHttp.class.getPackage().getImplementationVersion(), "dev")
            + "; java/" + Runtime.version().feature();

    private final HubSettings settings;
    private final HttpClient client;

    HubHttp(HubSettings settings) {
        this.settings = settings;
        // HTTP/1.1: one connection per file in flight, as huggingface_hub's httpx does; multiplexing several large
        // downloads over one HTTP/2 connection would share one TCP window. Redirects are followed by hand, to drop
        // the token on the way to another host and to tell relative redirects from CDN ones.
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(CONNECT_TIMEOUT).build();
    }

    /** The commit a revision names and the repository's files at it. */
    record RepoInfo(String commit, List<String> files) {}

    /** What a HEAD of a file's resolve URL says: where to GET it, whether to send the token there, its ETag and size. */
    record FileMetadata(String path, String commit, String etag, long size, URI location, boolean sameHost) {
        /** An LFS file's ETag is the sha256 of its bytes (a git blob's is a 40-digit sha1, of the header and bytes). */
        boolean isSha256() {
            return etag.length() == 64 && etag.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        }
    }

    @SuppressWarnings("unchecked")
    RepoInfo repoInfo(ModelRef model) throws IOException {
        URI uri = URI.create(settings.endpoint() + "/api/models/" + model.repo() + "/revision/" + quote(model.revision(), false));
        HttpResponse<byte[]> r = send(request(uri, true).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        // The API redirects a renamed repository too, with a relative Location.
        for (int hops = 0; isRedirect(r.statusCode()) && hops < MAX_REDIRECTS; hops++) {
            URI next = location(r);
            if (next.getHost() != null && !sameOrigin(uri, next)) break;
            uri = uri.resolve(next);
            r = send(request(uri, true).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        }
        check(r, model, null);
        Object json;
        try {
            json = Json.parse(new String(r.body(), StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new OvisException(uri + ": the reply is not the Hub's JSON (" + e.getMessage() + ")");
        }
        if (!(json instanceof Map<?, ?> m) || !(m.get("sha") instanceof String sha) || !(m.get("siblings") instanceof List<?> siblings))
            throw new OvisException(uri + ": the reply has no \"sha\" and \"siblings\"; is " + settings.endpoint() + " a Hugging Face Hub?");
        List<String> files = new ArrayList<>();
        for (Object s : siblings)
            if (s instanceof Map<?, ?> f && f.get("rfilename") instanceof String name) files.add(name);
        return new RepoInfo(sha, List.copyOf(files));
    }

    FileMetadata head(RepoId repo, String commit, String path) throws IOException {
        URI uri = resolveUrl(repo, commit, path);
        HttpResponse<Void> r;
        for (int hops = 0; ; hops++) {
            // identity: the size must be that of the bytes, not of a compressed transfer
            r = send(request(uri, true).method("HEAD", HttpRequest.BodyPublishers.noBody()).header("Accept-Encoding", "identity").build(),
                    HttpResponse.BodyHandlers.discarding());
            if (!isRedirect(r.statusCode()) || hops == MAX_REDIRECTS) break;
            URI next = location(r);
            if (next.getHost() != null) break; // absolute: the CDN; its Location is the download URL
            uri = uri.resolve(next);
        }
        ModelRef model = new ModelRef(repo, commit);
        check(r, model, path);
        var h = r.headers();
        String repoCommit = h.firstValue("X-Repo-Commit").orElseThrow(() -> new OvisException(resolveUrl(repo, commit, path)
                + ": no X-Repo-Commit header; is " + settings.endpoint() + " a Hugging Face Hub (or is a proxy in the way)?"));
        String etag = normalizeEtag(h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).orElse(null));
        if (etag == null) throw new OvisException(repo + ": " + path + ": the Hub sent no ETag, so the file cannot be cached or checked");
        String sizeText = h.firstValue("X-Linked-Size").orElse(isRedirect(r.statusCode()) ? null : h.firstValue("Content-Length").orElse(null));
        long size;
        try {
            size = Long.parseLong(Objects.requireNonNull(sizeText, "no size"));
        } catch (RuntimeException e) {
            throw new OvisException(repo + ": " + path + ": the Hub sent no file size (X-Linked-Size or Content-Length)");
        }
        URI location = isRedirect(r.statusCode()) ? uri.resolve(location(r)) : uri;
        return new FileMetadata(path, repoCommit, etag, size, location, sameOrigin(URI.create(settings.endpoint()), location));
    }

    /**
     * A GET of a file's bytes from {@code offset} on (a Range request when it is not 0), redirects followed, the token
     * sent only to the endpoint's host. The caller reads the body and looks at the status (206 or 200).
     */
    HttpResponse<InputStream> get(FileMetadata file, RepoId repo, long offset) throws IOException {
        URI uri = file.location();
        boolean auth = file.sameHost();
        for (int hops = 0; ; hops++) {
            HttpRequest.Builder b = request(uri, auth).GET().header("Accept-Encoding", "identity");
            if (offset > 0) b.header("Range", "bytes=" + offset + "-");
            HttpResponse<InputStream> r = send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            if (!isRedirect(r.statusCode()) || hops == MAX_REDIRECTS) {
                if (r.statusCode() != 200 && r.statusCode() != 206 && r.statusCode() != 416) {
                    try (InputStream body = r.body()) {
                        body.readNBytes(4096);
                    }
                    check(r, new ModelRef(repo, file.commit()), file.path());
                }
                return r;
            }
            r.body().close();
            URI next = uri.resolve(location(r));
            auth = auth && sameOrigin(uri, next);
            uri = next;
        }
    }

    URI resolveUrl(RepoId repo, String revision, String path) {
        return URI.create(settings.endpoint() + "/" + repo + "/resolve/" + quote(revision, false) + "/" + quote(path, true));
    }

    private HttpRequest.Builder request(URI uri, boolean auth) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(HEADERS_TIMEOUT).header("User-Agent", USER_AGENT);
        if (auth && settings.token() != null) b.header("Authorization", "Bearer " + settings.token());
        return b;
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) throws IOException {
        try {
            return client.send(request, body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static URI location(HttpResponse<?> r) {
        String loc = r.headers().firstValue("Location").orElseThrow(() -> new OvisException(r.uri() + ": a redirect without a Location"));
        try {
            return new URI(loc);
        } catch (java.net.URISyntaxException e) {
            throw new OvisException(r.uri() + ": a redirect to an invalid URL (" + loc + ")");
        }
    }

    private static boolean sameOrigin(URI a, URI b) {
        return b.getHost() == null || (a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b));
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
    }

    /** {@code W/"abc"} and {@code "abc"} are both {@code abc} (huggingface_hub's {@code _normalize_etag}). */
    static String normalizeEtag(String etag) {
        if (etag == null) return null;
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) e = e.substring(1, e.length() - 1);
        return e.isEmpty() ? null : e;
    }

    /** Percent-encoding of a path (slashes kept) or of one path segment (a revision: {@code refs/pr/1} is one segment). */
    static String quote(String s, boolean keepSlashes) {
        String q = URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%7E", "~");
        return keepSlashes ? q.replace("%2F", "/") : q;
    }

    /**
     * Turns a failed reply into one line (huggingface_hub's {@code hf_raise_for_status}: a 401 is what the Hub answers
     * for a private, gated or missing repository to a client without a token, so that it does not tell which).
     */
    private void check(HttpResponse<?> r, ModelRef model, String path) {
        int status = r.statusCode();
        if (status / 100 == 2 || isRedirect(status)) return;
        String code = r.headers().firstValue("X-Error-Code").orElse("");
        String message = r.headers().firstValue("X-Error-Message").orElse("");
        String repo = model.repo().toString(), at = settings.endpoint();
        String what = path == null ? repo : repo + ": " + path;
        String tokenHint = settings.token() == null ? "set HF_TOKEN to a token of an account that may read it" : "the token in HF_TOKEN may not read it";
        throw new OvisException(switch (code) {
            case "GatedRepo" -> repo + " is a gated model: accept its conditions at " + at + "/" + repo + " and "
                    + (settings.token() == null ? "set HF_TOKEN to a token of that account" : "check that HF_TOKEN is a token of the account that did")
                    + " (HTTP " + status + ")";
            case "RepoNotFound" -> repo + ": no such model on " + at + " (HTTP " + status + "); if it is private or gated, " + tokenHint;
            case "RevisionNotFound" -> repo + ": no revision \"" + model.revision() + "\" on " + at + " (HTTP " + status + ")";
            case "EntryNotFound" -> what + ": no such file at revision " + model.revision() + " (HTTP " + status + ")";
            default -> status == 401 && message.equals("Invalid credentials in Authorization header")
                    ? at + " refused the token in HF_TOKEN (invalid credentials, HTTP 401)"
                    : status == 401 ? what + ": " + at + " wants a token (HTTP 401); if the model is private or gated, " + tokenHint
                    : status == 403 ? what + ": access denied by " + at + " (HTTP 403" + (message.isEmpty() ? "" : ": " + message) + "); " + tokenHint
                    : status == 404 ? what + ": not found on " + at + " (HTTP 404" + (message.isEmpty() ? "" : ": " + message) + ")"
                    : what + ": " + r.uri().getHost() + " answered HTTP " + status + (message.isEmpty() ? "" : " (" + message + ")");
        });
    }

    /** A network failure in one line (no host, refused, timed out), naming the endpoint. */
    String describe(IOException e) {
        String why = switch (e) {
            case HttpTimeoutException t -> "timed out";
            case ConnectException c -> "connection refused or unreachable";
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
        return "cannot reach " + settings.endpoint() + " (" + why + ")";
    }

    @Override
    public void close() {
        client.close();
    }
}
