package org.ovis4j.train.data;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.tar.TarReader;

/**
 * Streams the records of one tar shard in archive order, WebDataset style: consecutive entries with
 * the same key (the file name up to its first dot) form a record. Contents that are not wanted are
 * skipped unread, so passing over records (to resume, or to read only captions) costs headers only.
 * A record needs an image ({@code .png}, {@code .jpg} or {@code .jpeg}) and a caption: the
 * {@code "prompt"} of its {@code .json} (what {@code ovis4j data synth} writes), else its {@code .txt}.
 */
final class ShardReader implements AutoCloseable {
    /** What to read of each record. */
    enum Read { NOTHING, CAPTION, ALL }

    private final ShardSet.Shard shard;
    private final String origin;
    private final TarReader tar;
    /** The first entry of the next record, already returned by the tar reader, contents unread. */
    private TarReader.Entry pending;
    private boolean started;
    private int index;

    ShardReader(ShardSet.Shard shard) {
        this.shard = shard;
        this.origin = shard.path().toString();
        this.tar = TarReader.open(shard.path());
    }

    /** Index of the record the next call returns. */
    int index() {
        return index;
    }

    /** Passes over {@code n} records (reading headers only); false if the shard ended first. */
    boolean skip(int n) {
        for (int i = 0; i < n; i++) if (next(Read.NOTHING) == null) return false;
        return true;
    }

    /** The next record, or null at the end of the shard; with {@link Read#NOTHING} image and caption are null. */
    ShardRecord next(Read read) {
        int at = index;
        String key = null;
        try {
            TarReader.Entry e = started ? pending : tar.next();
            started = true;
            if (e == null) return null;
            key = keyOf(e.name());
            byte[] image = null, json = null, txt = null;
            boolean hasImage = false, hasCaption = false;
            while (true) {
                String ext = extensionOf(e.name());
                boolean isImage = ext.equals("png") || ext.equals("jpg") || ext.equals("jpeg");
                boolean isCaption = ext.equals("json") || ext.equals("txt");
                if (isImage && hasImage) throw new OvisException(ShardRecord.where(origin, at, key) + ": more than one image");
                if (isImage) {
                    hasImage = true;
                    if (read == Read.ALL) image = tar.readData();
                } else if (isCaption) {
                    hasCaption = true;
                    if (read != Read.NOTHING) {
                        if (ext.equals("json")) json = tar.readData();
                        else txt = tar.readData();
                    }
                }
                e = tar.next();
                if (e == null || !keyOf(e.name()).equals(key)) break;
            }
            pending = e;
            index++;
            if (!hasImage) throw new OvisException(ShardRecord.where(origin, at, key) + ": no image (.png or .jpg entry)");
            if (!hasCaption) throw new OvisException(ShardRecord.where(origin, at, key) + ": no caption (.json or .txt entry)");
            String caption = read == Read.NOTHING ? null : caption(json, txt, at, key);
            return new ShardRecord(shard.index(), origin, at, key, image, caption);
        } catch (OvisException ex) {
            String m = ex.getMessage();
            // the tar reader names the file; say which record it was in, too
            if (m.startsWith(origin + ": ") && !m.startsWith(origin + ": record "))
                throw new OvisException(origin + ": record " + at + (key != null ? " (key " + key + ")" : "") + ": "
                        + m.substring(origin.length() + 2));
            throw ex;
        }
    }

    private String caption(byte[] json, byte[] txt, int at, String key) {
        if (json != null) {
            Object parsed;
            try {
                parsed = Json.parse(new String(json, StandardCharsets.UTF_8));
            } catch (Json.JsonException e) {
                throw new OvisException(ShardRecord.where(origin, at, key) + ": .json is not valid JSON (" + e.getMessage() + ")");
            }
            if (parsed instanceof Map<?, ?> m && m.get("prompt") instanceof String s) return s;
            if (parsed instanceof Map<?, ?> m && m.get("caption") instanceof String s) return s;
            if (txt == null) throw new OvisException(ShardRecord.where(origin, at, key) + ": .json has no \"prompt\" string");
        }
        return new String(txt, StandardCharsets.UTF_8).strip();
    }

    /** WebDataset's key: the path up to the first dot of its last component. */
    static String keyOf(String name) {
        int slash = name.lastIndexOf('/');
        int dot = name.indexOf('.', slash + 1);
        return dot < 0 ? name : name.substring(0, dot);
    }

    private static String extensionOf(String name) {
        int slash = name.lastIndexOf('/');
        int dot = name.indexOf('.', slash + 1);
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public void close() {
        tar.close();
    }
}
