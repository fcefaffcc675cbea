package org.ovis4j.core.safetensors;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * Writes a safetensors file from tensors declared up front and filled in order by a callback, so
 * that multi-gigabyte files stream to disk without being held in memory. The file appears under its
 * final name only when complete (written to a temporary sibling, then renamed).
 */
public final class SafetensorsWriter {
    /** Produces a tensor's bytes (little-endian, in its dtype) into the stream. */
    public interface Filler {
        void fill(OutputStream out) throws IOException;
    }

    private record Entry(String name, DType dtype, long[] shape, Filler filler) {}

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public SafetensorsWriter add(String name, DType dtype, long[] shape, Filler filler) {
        entries.add(new Entry(name, dtype, shape.clone(), filler));
        return this;
    }

    /** Adds an existing tensor's bytes as they are. */
    public SafetensorsWriter add(Tensor t) {
        return add(t.name(), t.dtype(), t.shape(), out -> {
            long n = t.data().byteSize();
            byte[] buf = new byte[1 << 20];
            for (long at = 0; at < n; at += buf.length) {
                int c = (int) Math.min(buf.length, n - at);
                java.lang.foreign.MemorySegment.copy(t.data(), java.lang.foreign.ValueLayout.JAVA_BYTE, at, buf, 0, c);
                out.write(buf, 0, c);
            }
        });
    }

    /** Adds float values stored as {@code dtype}. */
    public SafetensorsWriter addFloats(String name, DType dtype, long[] shape, float[] values) {
        if (Tensor.numel(shape) != values.length) throw new IllegalArgumentException(name + ": shape does not match values");
        return add(name, dtype, shape, out -> FloatEncoder.write(values, 0, values.length, dtype, out));
    }

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public void write(Path target) {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) header.put("__metadata__", metadata);
        long offset = 0;
        for (Entry e : entries) {
            long bytes = Tensor.numel(e.shape) * e.dtype.bytes;
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", e.dtype.safetensorsName);
            List<Object> shape = new ArrayList<>();
            for (long d : e.shape) shape.add(d);
            info.put("shape", shape);
            info.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.name, info);
            offset += bytes;
        }
        byte[] json = Json.write(header, 0).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8; // keep the data area 8-byte aligned
        byte[] hdr = new byte[json.length + pad];
        System.arraycopy(json, 0, hdr, 0, json.length);
        for (int k = json.length; k < hdr.length; k++) hdr[k] = ' ';

        Path tmp = target.resolveSibling(target.getFileName() + ".partial");
        try {
            if (target.getParent() != null) Files.createDirectories(target.getParent());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
                 OutputStream out = new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hdr.length);
                out.write(len.array());
                out.write(hdr);
                for (Entry e : entries) {
                    CountingStream counted = new CountingStream(out);
                    e.filler.fill(counted);
                    long expected = Tensor.numel(e.shape) * e.dtype.bytes;
                    if (counted.count != expected)
                        throw new IllegalStateException(e.name + ": wrote " + counted.count + " bytes, expected " + expected);
                }
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new OvisException(target + ": cannot write (" + e.getMessage() + ")");
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: the partial file has a name that no loader picks up
        }
    }

    private static final class CountingStream extends OutputStream {
        private final OutputStream out;
        long count;

        CountingStream(OutputStream out) { this.out = out; }

        @Override public void write(int b) throws IOException { out.write(b); count++; }

        @Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); count += len; }
    }
}
