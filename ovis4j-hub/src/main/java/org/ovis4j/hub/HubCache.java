package org.ovis4j.hub;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.ovis4j.core.OvisException;

/**
 * The Hub cache on disk, in the layout Python's huggingface_hub reads and writes, so a model fetched by either
 * is used by the other:
 *
 * <pre>
 * CACHE/models--NAMESPACE--NAME/
 *     blobs/ETAG                         each file's bytes, named by its ETag (sha256 for LFS files, git sha1 otherwise)
 *     blobs/ETAG.incomplete              a download in progress (resumed with a Range request)
 *     snapshots/COMMIT/PATH -> ../../blobs/ETAG      relative symlinks, one tree per commit
 *     refs/REVISION                      the commit a branch or tag named when last seen (no newline)
 * CACHE/.locks/models--NAMESPACE--NAME/ETAG.lock  held while a blob is written
 * </pre>
 *
 * Every file is written under a temporary name and renamed into place, so a reader (or a crash) never sees
 * half a ref, a half-made link or a blob that is not whole.
 */
public final class HubCache {
    /** A blob is named by its ETag; anything else from a server would be a path, not a name. */
    private static final Pattern ETAG_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,254}");
    private final Path root;

    public HubCache(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path repoFolder(RepoId repo) {
        return root.resolve(repo.cacheFolderName());
    }

    /**
     * The commit a revision names here: a commit hash is itself, a branch or tag is what {@code refs/REVISION}
     * recorded; empty if the cache never saw it.
     */
    public Optional<String> commit(RepoId repo, String revision) {
        if (ModelRef.isCommit(revision)) return Optional.of(revision);
        Path ref = repoFolder(repo).resolve("refs").resolve(revision);
        if (!Files.isRegularFile(ref)) return Optional.empty();
        try {
            String commit = Files.readString(ref, StandardCharsets.UTF_8).strip(); // Python writes none, but tolerate a newline
            return commit.isEmpty() ? Optional.empty() : Optional.of(commit);
        } catch (IOException e) {
            throw new OvisException(ref + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** The snapshot folder of a model's revision, if the cache has one (it may hold only the files that were pulled). */
    public Optional<Path> snapshot(ModelRef model) {
        return commit(model.repo(), model.revision()).map(c -> snapshotFolder(model.repo(), c)).filter(Files::isDirectory);
    }

    public Path snapshotFolder(RepoId repo, String commit) {
        if (!ETAG_NAME.matcher(commit).matches()) throw new OvisException("\"" + commit + "\" cannot be a commit of " + repo);
        return repoFolder(repo).resolve("snapshots").resolve(commit);
    }

    /** Where a repository file appears in a snapshot; a path that would leave the snapshot is refused. */
    public Path pointer(RepoId repo, String commit, String file) {
        Path snapshot = snapshotFolder(repo, commit);
        if (file.isEmpty() || file.startsWith("/") || file.contains("\\"))
            throw new OvisException(repo + ": \"" + file + "\" cannot be a file of a snapshot");
        for (String part : file.split("/", -1))
            if (part.isEmpty() || part.equals(".") || part.equals(".."))
                throw new OvisException(repo + ": \"" + file + "\" cannot be a file of a snapshot");
        return snapshot.resolve(file);
    }

    public Path blob(RepoId repo, String etag) {
        if (!ETAG_NAME.matcher(etag).matches() || etag.contains(".."))
            throw new OvisException(repo + ": the server's ETag \"" + etag + "\" cannot name a blob");
        return repoFolder(repo).resolve("blobs").resolve(etag);
    }

    /** A blob's download in progress: what a stopped pull leaves, resumed by the next (ovis4j's or huggingface_hub's). */
    public Path incomplete(RepoId repo, String etag) {
        Path blob = blob(repo, etag);
        return blob.resolveSibling(blob.getFileName() + ".incomplete");
    }

    /** The lock file of one blob, where huggingface_hub puts its own, so that ovis4j and Python exclude each other. */
    public Path lockFile(RepoId repo, String etag) {
        blob(repo, etag); // the same check of the name
        return root.resolve(".locks").resolve(repo.cacheFolderName()).resolve(etag + ".lock");
    }

    /** Records that {@code revision} names {@code commit}, unless it already does (the cache may be read-only then). */
    public void writeRef(RepoId repo, String revision, String commit) {
        if (revision.equals(commit) || commit(repo, revision).filter(commit::equals).isPresent()) return;
        Path ref = repoFolder(repo).resolve("refs").resolve(revision);
        try {
            Files.createDirectories(ref.getParent());
            Path tmp = ref.resolveSibling(ref.getFileName() + "." + UUID.randomUUID().toString().substring(0, 8) + ".tmp");
            Files.writeString(tmp, commit, StandardCharsets.UTF_8);
            move(tmp, ref);
        } catch (IOException e) {
            throw new OvisException(ref + ": cannot write (" + e.getMessage() + ")");
        }
    }

    /**
     * Points {@code pointer} at {@code blob} with a relative symlink ({@code ../../blobs/ETAG}, one more {@code ../}
     * per folder of the file's path), so the cache can be moved as a whole. Made under a temporary name and renamed
     * over the pointer: two pulls linking the same file at once both succeed.
     */
    public void link(Path pointer, Path blob) {
        try {
            Files.createDirectories(pointer.getParent());
            Path target = pointer.getParent().relativize(blob);
            Path tmp = pointer.resolveSibling("." + pointer.getFileName() + "." + UUID.randomUUID().toString().substring(0, 8) + ".link");
            Files.createSymbolicLink(tmp, target);
            move(tmp, pointer);
        } catch (UnsupportedOperationException e) {
            throw new OvisException(pointer + ": this file system has no symbolic links, which the Hub cache needs");
        } catch (IOException e) {
            throw new OvisException(pointer + ": cannot link to " + blob.getFileName() + " (" + e.getMessage() + ")");
        }
    }

    /**
     * Marks the cache for backup tools (the CACHEDIR.TAG standard, as huggingface_hub does); a cache that cannot take
     * it is not an error.
     */
    public void tagAsCache() {
        Path tag = root.resolve("CACHEDIR.TAG");
        if (Files.exists(tag)) return;
        try {
            Files.createDirectories(root);
            Path tmp = root.resolve("CACHEDIR.TAG." + UUID.randomUUID().toString().substring(0, 8) + ".tmp");
            Files.writeString(tmp, "Signature: 8a477f597d28d172789f06886806bc55\n"
                    + "# This file is a cache directory tag created by ovis4j (the Hugging Face Hub cache).\n"
                    + "# For information about cache directory tags see https://bford.info/cachedir/\n", StandardCharsets.UTF_8);
            move(tmp, tag);
        } catch (IOException e) {
            // only a hint for backup tools
        }
    }

    static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(from);
            throw e;
        }
    }
}
