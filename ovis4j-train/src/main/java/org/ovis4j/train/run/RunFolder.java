package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.io.FileTrees;

/**
 * The output folder of a training run and its checkpoint protocol. A checkpoint is written as a new
 * folder {@code step-NNNNNN.tmp}, its files flushed to disk, then renamed to {@code step-NNNNNN}; the
 * pointer file {@code latest} (the folder's name) is replaced atomically last. So at any moment
 * {@code latest} names a complete checkpoint: a process killed while writing leaves a {@code .tmp}
 * folder (removed when the run resumes) or a complete folder that {@code latest} does not name yet
 * (replaced when that step is written again); a failed write (a full disk) removes its folder and
 * reports one line, the previous checkpoint untouched.
 */
final class RunFolder {
    /** A seam for tests: called before each file of a checkpoint is written (and before {@code latest}). */
    interface Faults {
        void beforeWrite(Path file) throws IOException;

        Faults NONE = file -> {};
    }

    /** Writes a checkpoint's files into a folder. */
    interface Contents {
        void write(Path dir) throws IOException;
    }

    static final String LATEST = "latest";
    private static final Pattern STEP = Pattern.compile("step-(\\d{6,})");

    private final Path root;
    private final Faults faults;

    RunFolder(Path root, Faults faults) {
        this.root = root.toAbsolutePath().normalize();
        this.faults = faults;
    }

    Path root() { return root; }

    static String name(long step) {
        return String.format("step-%06d", step);
    }

    /** Creates the folder if needed (its parents too). */
    void create() {
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new OvisException(root + ": cannot create the output folder (" + e.getMessage() + ")");
        }
    }

    /** The checkpoint {@code latest} names, or null when there is none; the pointer must name a complete folder. */
    Path latest() {
        Path pointer = root.resolve(LATEST);
        if (!Files.isRegularFile(pointer)) return null;
        String name;
        try {
            name = Files.readString(pointer, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new OvisException(pointer + ": cannot read (" + e.getMessage() + ")");
        }
        if (!STEP.matcher(name).matches()) throw new OvisException(pointer + ": does not name a checkpoint (\"" + name + "\")");
        Path dir = root.resolve(name);
        if (!Files.isRegularFile(dir.resolve(TrainState.FILE)))
            throw new OvisException(pointer + ": names " + name + ", which is not a complete checkpoint");
        return dir;
    }

    /**
     * The state to resume from, or null for a fresh run: a fresh run needs a folder without checkpoints,
     * a resumed one a checkpoint whose config fingerprint is this config's (else one line naming the
     * first key that differs). Shared by every training mode.
     */
    TrainState resumeState(boolean resume, Path configFile, java.util.Map<String, Object> fingerprint, String hash) {
        Path latest = latest();
        if (!resume && latest != null)
            throw new OvisException(root + ": holds a run (latest checkpoint " + latest.getFileName()
                    + "); pass --resume to continue it, or choose another output folder");
        if (resume && latest == null) throw new OvisException(root + ": no checkpoint to resume from (no \"latest\" file)");
        TrainState state = resume ? TrainState.read(latest) : null;
        if (state != null && !state.configSha256().equals(hash)) {
            String diff = TrainConfig.difference("", state.fingerprint(), fingerprint);
            throw new OvisException(configFile + ": differs from the run being resumed in " + root + " ("
                    + (diff != null ? diff : "config hash " + state.configSha256()) + "); resume with the same config or train into another output folder");
        }
        return state;
    }

    /**
     * Writes checkpoint {@code step} ({@link #write}), keeps the newest {@code keepLast}, then replaces the
     * run's loss curve (loss.csv and loss.png) beside them; returns the checkpoint's folder.
     */
    Path checkpoint(long step, int keepLast, LossLog log, Contents contents) {
        Path dir = write(step, contents);
        prune(keepLast, dir);
        Path csv = root.resolve(LossLog.FILE);
        try {
            writeAtomically(csv, log.csv());
        } catch (IOException e) {
            throw new OvisException(csv + ": cannot write (" + e.getMessage() + "); the checkpoint " + dir.getFileName() + " is complete");
        }
        LossPlot.write(root.resolve("loss.png"), log.rows());
        return dir;
    }

    /** Removes folders of checkpoint writes that never completed. */
    void removeUnfinished() {
        for (Path p : list(".tmp")) {
            try {
                FileTrees.delete(p);
            } catch (IOException e) {
                throw new OvisException(p + ": cannot remove an unfinished checkpoint (" + e.getMessage() + ")");
            }
        }
    }

    /** Writes checkpoint {@code step} with the protocol of the class comment; returns its folder. */
    Path write(long step, Contents contents) {
        Path previous = latestOrNull();
        Path tmp = root.resolve(name(step) + ".tmp"), dir = root.resolve(name(step));
        try {
            FileTrees.delete(tmp);
            Files.createDirectories(tmp);
            contents.write(tmp);
            flush(tmp);
            if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) FileTrees.delete(dir); // a complete write that latest never named
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            forceDirectory(root);
            writeAtomically(root.resolve(LATEST), dir.getFileName() + "\n");
        } catch (IOException | RuntimeException e) {
            FileTrees.deleteQuietly(tmp);
            String why = e.getMessage() != null ? e.getMessage() : e.toString();
            throw new OvisException(root.resolve(name(step)) + ": checkpoint not written (" + why + "); "
                    + (previous == null ? "no earlier checkpoint" : "the last checkpoint is " + previous.getFileName()));
        }
        return dir;
    }

    private Path latestOrNull() {
        try {
            return latest();
        } catch (OvisException e) {
            return null;
        }
    }

    /** Replaces {@code file} with {@code text} atomically (temporary sibling, then rename). */
    void writeAtomically(Path file, String text) throws IOException {
        faults.beforeWrite(file);
        Path tmp = file.resolveSibling(file.getFileName() + ".partial");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** The seam's check before a checkpoint file is written. */
    void beforeWrite(Path file) throws IOException {
        faults.beforeWrite(file);
    }

    /** Deletes all but the newest {@code keep} complete checkpoints (never the one {@code latest} names); 0 keeps all. */
    void prune(int keep, Path latest) {
        if (keep <= 0) return;
        List<Path> done = list("");
        for (int k = 0; k < done.size() - keep; k++) {
            Path p = done.get(k);
            if (p.equals(latest)) continue;
            try {
                FileTrees.delete(p);
            } catch (IOException e) {
                throw new OvisException(p + ": cannot remove an old checkpoint (" + e.getMessage() + ")");
            }
        }
    }

    /** Checkpoint folders with the given suffix ("" or ".tmp"), oldest step first. */
    private List<Path> list(String suffix) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(root)) return out;
        try (DirectoryStream<Path> d = Files.newDirectoryStream(root)) {
            for (Path p : d) {
                String n = p.getFileName().toString();
                if (!n.endsWith(suffix)) continue;
                Matcher m = STEP.matcher(n.substring(0, n.length() - suffix.length()));
                if (m.matches() && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) out.add(p);
            }
        } catch (IOException e) {
            throw new OvisException(root + ": cannot list (" + e.getMessage() + ")");
        }
        out.sort(java.util.Comparator.comparing(p -> p.getFileName().toString()));
        return out;
    }

    /** fsync of every regular file under {@code dir} and of the folders, so a renamed checkpoint is on disk. */
    private static void flush(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        ch.force(true);
                    }
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    forceDirectory(p);
                }
            }
        }
    }

    /** fsync of a folder's entries; not every platform can open a folder, which then relies on the files' own flush. */
    private static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // the files themselves were forced
        }
    }
}
