package org.ovis4j.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.ovis4j.core.json.Json;

/**
 * A Hugging Face Hub on loopback, for tests: the endpoints, headers, redirects and errors of huggingface.co as
 * huggingface_hub meets them, serving folders of this repository as model repositories.
 *
 * <ul>
 *   <li>{@code GET /api/models/NS/NAME/revision/REV}: {@code {"id", "sha", "siblings": [{"rfilename"}]}}.</li>
 *   <li>{@code HEAD|GET /NS/NAME/resolve/REV/PATH}: a regular file is answered directly with {@code ETag} (its git blob
 *       sha1), {@code X-Repo-Commit} and {@code Content-Length}; an LFS file ({@code *.safetensors}) with a 302 to an
 *       absolute, signed-looking URL on a second server (the CDN, another origin) and {@code X-Linked-Etag} (sha256),
 *       {@code X-Linked-Size}, {@code X-Repo-Commit}, and the {@code ETag} of the pointer file.</li>
 *   <li>A renamed repository answers with relative 307 redirects to its new name.</li>
 *   <li>Errors carry the Hub's {@code X-Error-Code}: a missing repository is 401 {@code RepoNotFound} without a token
 *       (404 with one), a missing revision 404 {@code RevisionNotFound}, a missing file 404 {@code EntryNotFound}, a gated
 *       repository's files 401 {@code GatedRepo} without the right token.</li>
 *   <li>The CDN honours {@code Range} (206 and {@code Content-Range}) unless told to ignore it, and can be told to cut a
 *       transfer short, to corrupt a file, or to send slowly.</li>
 * </ul>
 */
public final class HubTestServer implements AutoCloseable {
    /** A repository: its files at one commit, reachable as "main", "v1" or the commit itself. */
    private record Repo(String id, String commit, Map<String, byte[]> files, String gatedToken) {}

    private record Blob(String path, byte[] bytes) {}

    private final HttpServer hub, cdn;
    private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "hub-test-server");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, String> renamed = new ConcurrentHashMap<>();
    private final Map<String, Blob> blobsBySha = new ConcurrentHashMap<>();

    // behaviours, set by tests
    private volatile boolean ignoreRange;
    private final Map<String, long[]> cuts = new ConcurrentHashMap<>(); // path -> {bytes to send, times left}
    private final Map<String, Boolean> corrupt = new ConcurrentHashMap<>();
    private volatile long pauseMillisPerChunk;

    // observations
    private final List<String> cdnLog = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, AtomicInteger> cdnFullBodies = new ConcurrentHashMap<>();
    private final AtomicInteger hubRequests = new AtomicInteger();
    private final List<String> hubAuthorizations = Collections.synchronizedList(new ArrayList<>());

    private HubTestServer() throws IOException {
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        hub = HttpServer.create(loopback, 0);
        cdn = HttpServer.create(loopback, 0);
        hub.createContext("/", this::hub);
        cdn.createContext("/", this::cdn);
        hub.setExecutor(executor);
        cdn.setExecutor(executor);
        hub.start();
        cdn.start();
    }

    public static HubTestServer start() {
        try {
            return new HubTestServer();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The tiny golden checkpoint, where tests running in any module's folder find it. */
    public static Path tinyModel() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.exists(dir.resolve("mvnw"))) dir = dir.getParent();
        if (dir == null) throw new IllegalStateException("no mvnw above " + Path.of("").toAbsolutePath());
        return dir.resolve("ovis4j-model/src/test/resources/goldens/ovis_image_tiny");
    }

    /** Serves every file under {@code folder} as repository {@code id} at a commit derived from the contents. */
    public HubTestServer addRepo(String id, Path folder) {
        return addRepo(id, folder, null);
    }

    /** A gated repository: its files need {@code Authorization: Bearer token}. */
    public HubTestServer addGatedRepo(String id, Path folder, String token) {
        return addRepo(id, folder, token);
    }

    /** Requests for {@code oldId} are redirected (relative 307) to {@code newId}, as after a rename. */
    public HubTestServer rename(String oldId, String newId) {
        renamed.put(oldId, newId);
        return this;
    }

    private HubTestServer addRepo(String id, Path folder, String gatedToken) {
        Map<String, byte[]> files = new LinkedHashMap<>();
        MessageDigest commit = digest("SHA-1");
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
                String name = folder.relativize(f).toString().replace('\\', '/');
                byte[] bytes = Files.readAllBytes(f);
                files.put(name, bytes);
                commit.update(name.getBytes(StandardCharsets.UTF_8));
                commit.update(bytes);
                if (isLfs(name)) blobsBySha.put(sha256(bytes), new Blob(name, bytes));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        commit.update(id.getBytes(StandardCharsets.UTF_8));
        repos.put(id, new Repo(id, HexFormat.of().formatHex(commit.digest()), files, gatedToken));
        return this;
    }

    public String endpoint() {
        return "http://" + hub.getAddress().getHostString() + ":" + hub.getAddress().getPort();
    }

    public String commit(String id) {
        return repos.get(id).commit();
    }

    public byte[] file(String id, String path) {
        return repos.get(id).files().get(path);
    }

    public List<String> files(String id) {
        return List.copyOf(repos.get(id).files().keySet());
    }

    // ---------------------------------------------------------------- behaviours

    /** The CDN answers every request with the whole file (200), whatever Range asks. */
    public void ignoreRange(boolean ignore) {
        ignoreRange = ignore;
    }

    /** The next {@code times} CDN transfers of {@code path} stop after {@code bytes} bytes of the body, the connection closed. */
    public void cut(String path, long bytes, int times) {
        cuts.put(path, new long[] {bytes, times});
    }

    /** The CDN serves {@code path} with one byte changed (or, false, correctly again). */
    public void corrupt(String path, boolean on) {
        corrupt.put(path, on);
    }

    /** The CDN pauses after each 16 KiB it sends, so that transfers overlap in time. */
    public void slow(long millisPerChunk) {
        pauseMillisPerChunk = millisPerChunk;
    }

    // ---------------------------------------------------------------- observations

    /** One entry per CDN GET: {@code "PATH range=R auth=yes|no"}, R the Range header or "none". */
    public List<String> cdnRequests() {
        synchronized (cdnLog) {
            return List.copyOf(cdnLog);
        }
    }

    /** How many CDN transfers of {@code path} sent the whole remaining body. */
    public int completedTransfers(String path) {
        return cdnFullBodies.computeIfAbsent(path, k -> new AtomicInteger()).get();
    }

    public int hubRequests() {
        return hubRequests.get();
    }

    /** The Authorization header of each request to the Hub itself ("none" when absent). */
    public List<String> hubAuthorizations() {
        synchronized (hubAuthorizations) {
            return List.copyOf(hubAuthorizations);
        }
    }

    public static boolean isLfs(String path) {
        return path.endsWith(".safetensors");
    }

    // ---------------------------------------------------------------- the Hub

    private static final Pattern API = Pattern.compile("/api/models/([^/]+/[^/]+)/revision/([^/]+)");
    private static final Pattern RESOLVE = Pattern.compile("/([^/]+/[^/]+)/resolve/([^/]+)/(.+)");

    private void hub(HttpExchange ex) throws IOException {
        try (ex) {
            hubRequests.incrementAndGet();
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            hubAuthorizations.add(auth == null ? "none" : auth);
            String path = ex.getRequestURI().getRawPath();
            Matcher api = API.matcher(path), resolve = RESOLVE.matcher(path);
            if (api.matches()) {
                String id = api.group(1), rev = decode(api.group(2));
                if (renamed.containsKey(id)) {
                    redirect(ex, "/api/models/" + renamed.get(id) + "/revision/" + api.group(2));
                    return;
                }
                Repo repo = repo(ex, id, auth);
                if (repo == null || !revision(ex, repo, rev)) return;
                Map<String, Object> info = new LinkedHashMap<>();
                info.put("_id", "0000");
                info.put("id", repo.id());
                info.put("private", false);
                info.put("gated", repo.gatedToken() != null ? "manual" : false);
                info.put("sha", repo.commit());
                List<Object> siblings = new ArrayList<>();
                for (String f : repo.files().keySet()) siblings.add(Map.of("rfilename", f));
                info.put("siblings", siblings);
                send(ex, 200, "application/json", Json.write(info, 0).getBytes(StandardCharsets.UTF_8));
            } else if (resolve.matches()) {
                String id = resolve.group(1), rev = decode(resolve.group(2)), file = decode(resolve.group(3));
                if (renamed.containsKey(id)) {
                    redirect(ex, "/" + renamed.get(id) + "/resolve/" + resolve.group(2) + "/" + resolve.group(3));
                    return;
                }
                Repo repo = repo(ex, id, auth);
                if (repo == null || !revision(ex, repo, rev)) return;
                if (repo.gatedToken() != null && !("Bearer " + repo.gatedToken()).equals(auth)) {
                    error(ex, 401, "GatedRepo", "Access to model " + id + " is restricted. You must have access to it and be authenticated to access it. Please log in.");
                    return;
                }
                byte[] bytes = repo.files().get(file);
                ex.getResponseHeaders().set("X-Repo-Commit", repo.commit());
                if (bytes == null) {
                    error(ex, 404, "EntryNotFound", "Entry not found");
                    return;
                }
                if (isLfs(file)) {
                    String sha = sha256(bytes);
                    String pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + sha + "\nsize " + bytes.length + "\n";
                    ex.getResponseHeaders().set("ETag", "\"" + gitSha1(pointer.getBytes(StandardCharsets.UTF_8)) + "\"");
                    ex.getResponseHeaders().set("X-Linked-Etag", "\"" + sha + "\"");
                    ex.getResponseHeaders().set("X-Linked-Size", Long.toString(bytes.length));
                    ex.getResponseHeaders().set("Location", cdnUrl() + "/repos/" + sha.substring(0, 2) + "/" + sha + "?X-Amz-Signature=0f" + sha.substring(0, 8));
                    byte[] body = ("Found. Redirecting to " + cdnUrl()).getBytes(StandardCharsets.UTF_8);
                    send(ex, 302, "text/plain", body);
                } else {
                    ex.getResponseHeaders().set("ETag", "\"" + gitSha1(bytes) + "\"");
                    send(ex, 200, "application/octet-stream", bytes);
                }
            } else {
                error(ex, 404, null, "Sorry, we can't find the page you are looking for.");
            }
        }
    }

    /** The repository, or an error sent as the Hub sends it (401 to the anonymous, so as not to say whether it exists). */
    private Repo repo(HttpExchange ex, String id, String auth) throws IOException {
        Repo repo = repos.get(id);
        if (repo == null) error(ex, auth == null ? 401 : 404, "RepoNotFound", "Repository not found");
        return repo;
    }

    private boolean revision(HttpExchange ex, Repo repo, String rev) throws IOException {
        if (rev.equals("main") || rev.equals("v1") || rev.equals(repo.commit())) return true;
        error(ex, 404, "RevisionNotFound", "Invalid rev id: " + rev);
        return false;
    }

    private void redirect(HttpExchange ex, String relative) throws IOException {
        ex.getResponseHeaders().set("Location", relative);
        send(ex, 307, "text/plain", ("Temporary Redirect. Redirecting to " + relative).getBytes(StandardCharsets.UTF_8));
    }

    private static void error(HttpExchange ex, int status, String code, String message) throws IOException {
        if (code != null) ex.getResponseHeaders().set("X-Error-Code", code);
        ex.getResponseHeaders().set("X-Error-Message", message);
        send(ex, status, "application/json", Json.write(Map.of("error", message), 0).getBytes(StandardCharsets.UTF_8));
    }

    /** A reply with a body, or for HEAD its headers with the Content-Length the body would have. */
    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
            ex.sendResponseHeaders(status, -1);
        } else {
            ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
            ex.getResponseBody().write(body);
        }
    }

    // ---------------------------------------------------------------- the CDN

    private static final Pattern CDN_PATH = Pattern.compile("/repos/[0-9a-f]{2}/([0-9a-f]{64})");
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    private String cdnUrl() {
        return "http://" + cdn.getAddress().getHostString() + ":" + cdn.getAddress().getPort();
    }

    private void cdn(HttpExchange ex) throws IOException {
        try (ex) {
            Matcher m = CDN_PATH.matcher(ex.getRequestURI().getRawPath());
            Blob blob = m.matches() ? blobsBySha.get(m.group(1)) : null;
            if (blob == null || ex.getRequestURI().getRawQuery() == null) {
                send(ex, 403, "application/xml", "<Error><Code>AccessDenied</Code></Error>".getBytes(StandardCharsets.UTF_8));
                return;
            }
            String range = ex.getRequestHeaders().getFirst("Range");
            cdnLog.add(blob.path() + " range=" + (range == null ? "none" : range) + " auth="
                    + (ex.getRequestHeaders().containsKey("Authorization") ? "yes" : "no"));
            byte[] bytes = blob.bytes();
            if (Boolean.TRUE.equals(corrupt.get(blob.path()))) {
                bytes = bytes.clone();
                bytes[bytes.length / 2] ^= 0x5a;
            }
            int start = 0;
            Matcher r = range == null ? null : RANGE.matcher(range);
            if (r != null && r.matches() && !ignoreRange) {
                start = Integer.parseInt(r.group(1));
                if (start >= bytes.length) {
                    ex.getResponseHeaders().set("Content-Range", "bytes */" + bytes.length);
                    send(ex, 416, "text/plain", new byte[0]);
                    return;
                }
                ex.getResponseHeaders().set("Content-Range", "bytes " + start + "-" + (bytes.length - 1) + "/" + bytes.length);
            }
            ex.getResponseHeaders().set("Content-Type", "application/octet-stream");
            ex.getResponseHeaders().set("Accept-Ranges", "bytes");
            int length = bytes.length - start;
            ex.sendResponseHeaders(start > 0 ? 206 : 200, length);
            long limit = length;
            long[] cut = cuts.get(blob.path());
            if (cut != null) {
                synchronized (cut) {
                    if (cut[1] > 0) {
                        cut[1]--;
                        limit = Math.min(limit, cut[0]);
                    }
                }
            }
            OutputStream out = ex.getResponseBody();
            for (long sent = 0; sent < limit; ) {
                int n = (int) Math.min(16 << 10, limit - sent);
                out.write(bytes, (int) (start + sent), n);
                sent += n;
                if (pauseMillisPerChunk > 0) {
                    out.flush();
                    sleep(pauseMillisPerChunk);
                }
            }
            out.flush();
            // Ending the exchange with bytes missing makes the server drop the connection: the client sees it closed early.
            if (limit < length) throw new IOException("transfer cut by the test");
            cdnFullBodies.computeIfAbsent(blob.path(), k -> new AtomicInteger()).incrementAndGet();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- hashes

    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest("SHA-256").digest(bytes));
    }

    /** A git blob's id: sha1 of {@code "blob " + size + "\0"} and the bytes, which the Hub sends as a regular file's ETag. */
    public static String gitSha1(byte[] bytes) {
        MessageDigest d = digest("SHA-1");
        d.update(("blob " + bytes.length + "\0").getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(d.digest(bytes));
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
        executor.shutdownNow();
    }
}
