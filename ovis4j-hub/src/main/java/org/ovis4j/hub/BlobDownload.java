package org.ovis4j.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ovis4j.core.OvisException;

/**
 * One file of a snapshot into the cache: its blob written (or found), checked, and linked from the snapshot.
 *
 * <p>The blob is written as {@code blobs/ETAG.incomplete} under the blob's lock. Bytes already there, from a pull that
 * was stopped or a connection that dropped, are kept and the rest asked for with {@code Range: bytes=N-}; a server that
 * answers the whole file instead (200, not 206) is written from the start again, never appended. A dropped connection
 * is resumed like that up to {@value #ATTEMPTS} times in a row without progress (huggingface_hub's {@code http_get}
 * retries). The size must be the Hub's, and an LFS file's sha256 its ETag: on a mismatch the bytes are deleted and the
 * error is one line. Only a whole, checked blob is renamed to {@code blobs/ETAG}.
 */
final class BlobDownload {
    static final int ATTEMPTS = 5;
    private static final int BUFFER = 1 << 20;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    private final HubHttp http;
    private final HubCache cache;
    private final Duration retryDelay;
    private final PullListener listener;

    BlobDownload(HubHttp http, HubCache cache, Duration retryDelay, PullListener listener) {
        this.http = http;
        this.cache = cache;
        this.retryDelay = retryDelay;
        this.listener = listener;
    }

    /** Makes {@code snapshots/COMMIT/PATH} point at the file's blob, downloading the blob unless the cache has it. */
    void fetch(RepoId repo, String commit, HubHttp.FileMetadata file) throws IOException {
        Path blob = cache.blob(repo, file.etag()), pointer = cache.pointer(repo, commit, file.path());
        try (BlobLock lock = BlobLock.acquire(cache.lockFile(repo, file.etag()))) {
            // Another pull (thread or process) may have written it while this one waited for the lock.
            if (!Files.isRegularFile(blob)) download(repo, file, blob);
            cache.link(pointer, blob);
        }
        listener.onProgress(file.path(), file.size(), file.size());
        listener.onFileDone(file.path());
    }

    private void download(RepoId repo, HubHttp.FileMetadata file, Path blob) throws IOException {
        Path part = cache.incomplete(repo, file.etag());
        Files.createDirectories(part.getParent());
        MessageDigest sha = file.isSha256() ? sha256() : null;
        try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long have = out.size();
            if (have > file.size()) {
                listener.onWarning(file.path() + ": the partial download is larger than the file; starting again");
                have = restart(file, out, sha);
            } else if (have > 0 && sha != null) {
                digestPrefix(out, have, sha);
            }
            listener.onProgress(file.path(), have, file.size()); // the first report: what a stopped pull left
            int failures = 0;
            while (have < file.size()) {
                long before = have;
                try {
                    have = transfer(repo, file, out, have, sha);
                } catch (OvisException e) {
                    throw e;
                } catch (InterruptedIOException e) {
                    throw e;
                } catch (IOException e) {
                    have = out.size();
                    failures = have > before ? 1 : failures + 1;
                    if (failures >= ATTEMPTS)
                        throw new OvisException(repo + ": " + file.path() + ": download failed " + ATTEMPTS + " times in a row ("
                                + http.describe(e) + "); run the pull again to resume from byte " + have);
                    listener.onWarning(file.path() + ": connection lost at byte " + have + " (" + e.getMessage() + "); resuming");
                    pause();
                }
            }
            out.force(true); // the bytes are on disk before the name says the blob is whole
        }
        if (sha != null) {
            String actual = HexFormat.of().formatHex(sha.digest());
            if (!actual.equals(file.etag())) {
                Files.deleteIfExists(part);
                throw new OvisException(repo + ": " + file.path() + ": the downloaded bytes have sha256 " + actual + ", not " + file.etag()
                        + " as the Hub says; the bad download was deleted, pull again");
            }
        }
        HubCache.move(part, blob);
    }

    /** One GET from {@code have} on, appended to {@code out}; returns the bytes now on disk. */
    private long transfer(RepoId repo, HubHttp.FileMetadata file, FileChannel out, long have, MessageDigest sha) throws IOException {
        HttpResponse<InputStream> r = http.get(file, repo, have);
        try (InputStream body = r.body()) {
            if (r.statusCode() == 416 && have == 0)
                throw new OvisException(repo + ": " + file.path() + ": the server refused the download (HTTP 416)");
            if (r.statusCode() == 416) {
                // The range starts past the end: what is on disk cannot be a prefix of this file.
                listener.onWarning(file.path() + ": the server refused to resume (HTTP 416); starting again");
                return restart(file, out, sha);
            }
            if (have > 0 && r.statusCode() == 200) {
                listener.onWarning(file.path() + ": the server ignored the Range request; downloading the whole file again");
                have = restart(file, out, sha);
            } else if (r.statusCode() == 206) {
                long start = rangeStart(r);
                if (start != have) {
                    listener.onWarning(file.path() + ": the server resumed at byte " + start + ", not " + have + "; starting again");
                    return restart(file, out, sha);
                }
            }
            out.position(have);
            byte[] buf = new byte[BUFFER];
            int n;
            while ((n = body.read(buf)) > 0) {
                if (have + n > file.size()) {
                    out.truncate(0);
                    throw new OvisException(repo + ": " + file.path() + ": the server sent more than the " + file.size()
                            + " bytes the Hub announced; the download was deleted");
                }
                out.write(ByteBuffer.wrap(buf, 0, n));
                if (sha != null) sha.update(buf, 0, n);
                have += n;
                listener.onProgress(file.path(), have, file.size());
            }
        }
        if (have < file.size()) throw new IOException("the connection closed at byte " + have + " of " + file.size());
        return have;
    }

    private long restart(HubHttp.FileMetadata file, FileChannel out, MessageDigest sha) throws IOException {
        out.truncate(0);
        if (sha != null) sha.reset();
        listener.onProgress(file.path(), 0, file.size());
        return 0;
    }

    private static long rangeStart(HttpResponse<?> r) {
        String cr = r.headers().firstValue("Content-Range").orElse("");
        Matcher m = CONTENT_RANGE.matcher(cr.strip());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    /** The sha256 of a resumed download covers the bytes kept from before. */
    private static void digestPrefix(FileChannel in, long length, MessageDigest sha) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(BUFFER);
        long pos = 0;
        while (pos < length) {
            buf.clear().limit((int) Math.min(BUFFER, length - pos));
            int n = in.read(buf, pos);
            if (n < 0) break;
            sha.update(buf.flip());
            pos += n;
        }
    }

    private void pause() throws InterruptedIOException {
        try {
            Thread.sleep(retryDelay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
