package org.ovis4j.server.job;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;

/**
 * The jobs and their images on disk, under the server's data folder: {@code jobs/ID.json}, one file
 * per job rewritten atomically at each change of state, and {@code images/IMAGE.png}. One file per
 * job rather than a journal: there is nothing to replay or compact, a torn write cannot exist, and
 * a job's record can be read (or removed) with ordinary tools. A lock on {@code lock} keeps a second
 * server off the same folder.
 */
public final class JobStore implements AutoCloseable {
    private final Path jobs, images;
    private final FileChannel lockChannel;
    private final FileLock lock;

    private JobStore(Path jobs, Path images, FileChannel lockChannel, FileLock lock) {
        this.jobs = jobs;
        this.images = images;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    public static JobStore open(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
            Path jobs = Files.createDirectories(dataDir.resolve("jobs"));
            Path images = Files.createDirectories(dataDir.resolve("images"));
            FileChannel ch = FileChannel.open(dataDir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                lock = null; // held by this very process (a second server in one JVM)
            }
            if (lock == null) {
                ch.close();
                throw new OvisException(dataDir + ": another server is using this data folder");
            }
            AtomicFiles.removeLeftovers(jobs);
            AtomicFiles.removeLeftovers(images);
            return new JobStore(jobs, images, ch, lock);
        } catch (IOException e) {
            throw new OvisException(dataDir + ": cannot use as the data folder (" + e.getMessage() + ")");
        }
    }

    /** Writes the job's current record; when this returns, the state survives a crash. */
    public void save(Job job) {
        byte[] bytes = Json.write(job.toJson(), 1).getBytes(StandardCharsets.UTF_8);
        try {
            AtomicFiles.write(jobs.resolve(job.id() + ".json"), bytes);
        } catch (IOException e) {
            throw new OvisException("cannot save job " + job.id() + " (" + e.getMessage() + ")");
        }
    }

    /** Every job on disk, in the order they were accepted. A record that cannot be read is an error naming its file. */
    public List<Job> loadAll() {
        List<Job> out = new ArrayList<>();
        try (var files = Files.list(jobs)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".json")).toList()) {
                try {
                    out.add(Job.fromJson(Json.parseObject(f)));
                } catch (IOException | RuntimeException e) {
                    throw new OvisException(f + ": unreadable job record (" + e.getMessage() + "); move it away to start");
                }
            }
        } catch (IOException e) {
            throw new OvisException(jobs + ": cannot list jobs (" + e.getMessage() + ")");
        }
        out.sort(Comparator.comparingLong(Job::sequence));
        return out;
    }

    public void saveImage(String imageId, byte[] png) {
        try {
            AtomicFiles.write(imageFile(imageId), png);
        } catch (IOException e) {
            throw new OvisException("cannot save image " + imageId + " (" + e.getMessage() + ")");
        }
    }

    /** The PNG's bytes, or null when there is no such image. */
    public byte[] readImage(String imageId) {
        try {
            return Files.readAllBytes(imageFile(imageId));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new OvisException("cannot read image " + imageId + " (" + e.getMessage() + ")");
        }
    }

    private Path imageFile(String imageId) {
        if (!imageId.matches("[A-Za-z0-9_-]{1,100}")) throw new IllegalArgumentException("bad image id");
        return images.resolve(imageId + ".png");
    }

    @Override
    public void close() {
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException ignored) {
            // the process is ending; the lock goes with it
        }
    }
}
