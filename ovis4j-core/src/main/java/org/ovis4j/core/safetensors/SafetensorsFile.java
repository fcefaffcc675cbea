package org.ovis4j.core.safetensors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * One safetensors file, memory-mapped whole; its tensors are slices of the mapping. The header is
 * checked before anything is used: every tensor's byte range must lie inside the data area, match its
 * shape and dtype exactly, and not overlap another's.
 */
public final class SafetensorsFile {
    private static final long MAX_HEADER = 100L << 20;

    private final Path path;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.path = path;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Maps {@code path} into {@code arena}; the tensors stay valid until the arena is closed. */
    public static SafetensorsFile open(Path path, Arena arena) {
        MemorySegment whole;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new OvisException(path + ": truncated safetensors file (" + size + " bytes)");
            whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (NoSuchFileException e) {
            throw new OvisException(path + ": file not found");
        } catch (IOException e) {
            throw new OvisException(path + ": cannot read (" + e.getMessage() + ")");
        }
        return parse(path, whole);
    }

    @SuppressWarnings("unchecked")
    static SafetensorsFile parse(Path path, MemorySegment whole) {
        long size = whole.byteSize();
        long headerLen = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size)
            throw new OvisException(path + ": corrupt safetensors header length " + headerLen + " (file has " + size + " bytes)");
        byte[] hb = whole.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        Object parsed;
        try {
            parsed = Json.parse(new String(hb, StandardCharsets.UTF_8));
        } catch (Json.JsonException e) {
            throw new OvisException(path + ": safetensors header is not valid JSON (" + e.getMessage() + ")");
        }
        if (!(parsed instanceof Map)) throw new OvisException(path + ": safetensors header is not a JSON object");
        long dataStart = 8 + headerLen;
        long dataLen = size - dataStart;
        MemorySegment dataArea = whole.asSlice(dataStart, dataLen);

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>();
        for (Map.Entry<String, Object> e : ((Map<String, Object>) parsed).entrySet()) {
            String name = e.getKey();
            if (name.equals("__metadata__")) {
                if (e.getValue() instanceof Map<?, ?> m) m.forEach((k, v) -> metadata.put(String.valueOf(k), String.valueOf(v)));
                continue;
            }
            String where = path + ": tensor " + name;
            if (!(e.getValue() instanceof Map<?, ?> info)) throw new OvisException(where + ": entry is not an object");
            if (!(info.get("dtype") instanceof String dt)) throw new OvisException(where + ": missing dtype");
            DType dtype = DType.fromSafetensors(dt, where);
            long[] shape = longs(info.get("shape"), where + ": shape");
            long[] off = longs(info.get("data_offsets"), where + ": data_offsets");
            if (off.length != 2) throw new OvisException(where + ": data_offsets must have two entries");
            long begin = off[0], end = off[1];
            if (begin < 0 || end < begin || end > dataLen)
                throw new OvisException(where + ": data_offsets [" + begin + ", " + end + "] outside the data area of "
                        + dataLen + " bytes (truncated file?)");
            long expected;
            try {
                expected = Math.multiplyExact(Tensor.numel(shape), (long) dtype.bytes);
            } catch (ArithmeticException ex) {
                throw new OvisException(where + ": shape too large");
            }
            if (end - begin != expected)
                throw new OvisException(where + ": " + (end - begin) + " bytes for shape " + java.util.Arrays.toString(shape)
                        + " " + dtype + " (expected " + expected + ")");
            ranges.add(new long[] {begin, end});
            tensors.put(name, new Tensor(name, dtype, shape, dataArea.asSlice(begin, end - begin)));
        }
        ranges.sort((a, b) -> Long.compare(a[0], b[0]));
        for (int k = 1; k < ranges.size(); k++)
            if (ranges.get(k)[0] < ranges.get(k - 1)[1] && ranges.get(k)[1] > ranges.get(k)[0])
                throw new OvisException(path + ": tensor byte ranges overlap at offset " + ranges.get(k)[0]);
        return new SafetensorsFile(path, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static long[] longs(Object v, String where) {
        if (!(v instanceof List<?> l)) throw new OvisException(where + " is missing or not a list");
        long[] out = new long[l.size()];
        for (int k = 0; k < out.length; k++) {
            if (!(l.get(k) instanceof Long x) || x < 0) throw new OvisException(where + " has a bad entry " + l.get(k));
            out[k] = x;
        }
        return out;
    }

    public Path path() { return path; }
    public Map<String, Tensor> tensors() { return tensors; }
    public Map<String, String> metadata() { return metadata; }

    /** Reads a small file onto an arena that the caller closes: for test vectors and latents. */
    public static SafetensorsFile read(Path path, Arena arena) {
        if (!Files.isRegularFile(path)) throw new OvisException(path + ": file not found");
        return open(path, arena);
    }
}
