package org.ovis4j.hub;

import java.util.List;

/**
 * What a pull reports as it goes, for progress displays. Files are downloaded in parallel: the methods are called
 * from several threads.
 */
public interface PullListener {
    /** A file of the snapshot: its size, and whether the cache already has it (then nothing is downloaded). */
    record PlannedFile(String path, long size, boolean cached) {}

    /** Once the Hub has named the commit and every file's size: the whole of what this pull will fetch. */
    default void onPlan(ModelRef model, String commit, List<PlannedFile> files) {}

    /**
     * {@code done} of a file's {@code size} bytes are on disk: first when its download starts (the bytes a stopped pull left,
     * often 0), then as they arrive; back to 0 when a download starts over.
     */
    default void onProgress(String path, long done, long size) {}

    /** A file's blob is complete and checked and its snapshot link made. */
    default void onFileDone(String path) {}

    /** Something the user should know that does not stop the pull (a restart, a cached snapshot used instead). */
    default void onWarning(String message) {}

    PullListener NONE = new PullListener() {};
}
