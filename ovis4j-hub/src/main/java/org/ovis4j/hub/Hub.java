package org.ovis4j.hub;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.ovis4j.core.OvisException;

/**
 * Models from a Hugging Face Hub into the shared cache ({@link HubCache}), as huggingface_hub's
 * {@code snapshot_download} fetches them: the revision's commit and file list from the API, then every file's
 * metadata and bytes, {@value #DEFAULT_WORKERS} files at a time. Files the snapshot already has cost nothing; blobs the
 * cache holds (from another revision or another pull) are linked, not fetched again. With {@code HF_HUB_OFFLINE} the
 * network is never touched.
 */
public final class Hub implements AutoCloseable {
    public static final int DEFAULT_WORKERS = 8;

    private final HubSettings settings;
    private final HubCache cache;
    private final int workers;
    private final Duration retryDelay;
    private HubHttp http;

    public Hub(HubSettings settings) {
        this(settings, DEFAULT_WORKERS, Duration.ofSeconds(1));
    }

    /** {@code workers}: files downloaded at once; {@code retryDelay}: the pause before resuming a dropped connection. */
    public Hub(HubSettings settings, int workers, Duration retryDelay) {
        if (workers < 1) throw new OvisException("the number of parallel downloads must be at least 1, got " + workers);
        this.settings = settings;
        this.cache = new HubCache(settings.cache());
        this.workers = workers;
        this.retryDelay = retryDelay;
    }

    public HubSettings settings() {
        return settings;
    }

    public HubCache cache() {
        return cache;
    }

    /** The model's snapshot folder if the cache has its revision, without any network access. */
    public Optional<Path> cached(ModelRef model) {
        return cache.snapshot(model);
    }

    /**
     * Downloads the model's files at its revision (those matching {@code include}, all if it is empty) into the cache
     * and returns the snapshot folder, {@code CACHE/models--NAMESPACE--NAME/snapshots/COMMIT}. Offline, or when the Hub
     * cannot be reached, a snapshot the cache already has is returned as it is.
     */
    public Path pull(ModelRef model, List<FileGlob> include, PullListener listener) {
        if (settings.offline())
            return cached(model).orElseThrow(() -> new OvisException("HF_HUB_OFFLINE is set and " + model + " is not in the Hub cache at "
                    + cache.root() + " (pull it once with the network on)"));
        HubHttp.RepoInfo info;
        try {
            info = http().repoInfo(model);
        } catch (IOException e) {
            Optional<Path> local = cached(model);
            if (local.isEmpty()) throw new OvisException(http().describe(e) + " to pull " + model + ", and the Hub cache at " + cache.root()
                    + " does not have it");
            listener.onWarning(http().describe(e) + "; using the cached snapshot " + local.get());
            return local.get();
        }
        String commit = info.commit();
        List<String> files = info.files().stream().filter(f -> FileGlob.anyMatches(include, f)).toList();
        if (files.isEmpty())
            throw new OvisException(info.files().isEmpty() ? model + " has no files" : "no file of " + model + " matches --include " + include);
        cache.tagAsCache();
        cache.writeRef(model.repo(), model.revision(), commit);

        // First every file's metadata (a HEAD each, none for files the snapshot has): the sizes make the total.
        List<HubHttp.FileMetadata> metadata = parallel(files, f -> {
            Path pointer = cache.pointer(model.repo(), commit, f);
            return Files.exists(pointer) ? null : http().head(model.repo(), commit, f);
        });
        List<PullListener.PlannedFile> plan = new ArrayList<>();
        List<HubHttp.FileMetadata> toFetch = new ArrayList<>();
        long missingBytes = 0;
        for (int i = 0; i < files.size(); i++) {
            HubHttp.FileMetadata m = metadata.get(i);
            if (m == null) {
                plan.add(new PullListener.PlannedFile(files.get(i), size(cache.pointer(model.repo(), commit, files.get(i))), true));
            } else {
                boolean have = Files.isRegularFile(cache.blob(model.repo(), m.etag()));
                plan.add(new PullListener.PlannedFile(m.path(), m.size(), have));
                toFetch.add(m);
                if (!have) missingBytes += m.size() - size(cache.incomplete(model.repo(), m.etag()));
            }
        }
        listener.onPlan(model, commit, List.copyOf(plan));
        warnIfDiskIsShort(missingBytes, listener);

        BlobDownload download = new BlobDownload(http(), cache, retryDelay, listener);
        parallel(toFetch, m -> {
            download.fetch(model.repo(), commit, m);
            return null;
        });
        return cache.snapshotFolder(model.repo(), commit);
    }

    private interface Task<T, R> {
        R run(T item) throws IOException;
    }

    /**
     * Runs a task on each item, {@code workers} at a time, results in the items' order. The first failure stops the rest
     * (their partial downloads stay, to be resumed) and is thrown as one line.
     */
    private <T, R> List<R> parallel(List<T> items, Task<T, R> task) {
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(workers, Math.max(1, items.size())), r -> {
            Thread t = new Thread(r, "ovis4j-hub");
            t.setDaemon(true);
            return t;
        });
        try {
            java.util.concurrent.CompletionService<Object[]> done = new java.util.concurrent.ExecutorCompletionService<>(pool);
            for (int i = 0; i < items.size(); i++) {
                int index = i;
                done.submit(() -> {
                    try {
                        return new Object[] {index, task.run(items.get(index))};
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
            List<R> out = new ArrayList<>(java.util.Collections.nCopies(items.size(), null));
            for (int i = 0; i < items.size(); i++) { // in the order they finish: the first failure ends the wait
                Object[] r = done.take().get();
                @SuppressWarnings("unchecked") R value = (R) r[1];
                out.set((Integer) r[0], value);
            }
            return out;
        } catch (ExecutionException e) {
            throw switch (e.getCause()) {
                case OvisException o -> o;
                case UncheckedIOException u when u.getCause() instanceof java.nio.file.FileSystemException f ->
                        new OvisException(f.getFile() + ": cannot write the Hub cache here (" + (f.getReason() != null ? f.getReason()
                                : f.getClass().getSimpleName()) + ")");
                case UncheckedIOException u -> new OvisException(http().describe(u.getCause()));
                case RuntimeException r -> r;
                default -> new IllegalStateException(e.getCause());
            };
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.util.concurrent.CancellationException("interrupted");
        } finally {
            pool.shutdownNow();
            try {
                // Downloads end (and release their blob locks) before the caller goes on.
                pool.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void warnIfDiskIsShort(long bytes, PullListener listener) {
        try {
            Path dir = cache.root();
            while (dir != null && !Files.exists(dir)) dir = dir.getParent();
            if (dir == null) return;
            long free = Files.getFileStore(dir).getUsableSpace();
            if (free < bytes)
                listener.onWarning(String.format("the download needs %.2f GB and %s has %.2f GB free", bytes / 1e9, cache.root(), free / 1e9));
        } catch (IOException e) {
            // only a warning
        }
    }

    private static long size(Path p) {
        try {
            return Files.exists(p) ? Files.size(p) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private synchronized HubHttp http() {
        if (http == null) http = new HubHttp(settings);
        return http;
    }

    @Override
    public synchronized void close() {
        if (http != null) http.close();
        http = null;
    }
}
