package org.ovis4j.data.shard;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.core.OvisException;

/** Reads the plain ustar archives this module writes (regular files only), for checks and tools. */
public final class TarReader {
    private TarReader() {}

    /** Entry name to contents, in archive order. */
    public static Map<String, byte[]> read(Path tar) throws IOException {
        byte[] all = Files.readAllBytes(tar);
        Map<String, byte[]> out = new LinkedHashMap<>();
        int pos = 0;
        while (pos + 512 <= all.length) {
            boolean zero = true;
            for (int i = pos; i < pos + 512; i++) if (all[i] != 0) { zero = false; break; }
            if (zero) break;
            int nameEnd = pos;
            while (nameEnd < pos + 100 && all[nameEnd] != 0) nameEnd++;
            String name = new String(all, pos, nameEnd - pos, StandardCharsets.UTF_8);
            String sizeField = new String(all, pos + 124, 11, StandardCharsets.US_ASCII).trim();
            long size;
            try {
                size = Long.parseLong(sizeField.isEmpty() ? "0" : sizeField, 8);
            } catch (NumberFormatException e) {
                throw new OvisException(tar + ": not a tar archive (bad size field at offset " + pos + ")");
            }
            if (pos + 512 + size > all.length) throw new OvisException(tar + ": truncated at entry " + name);
            byte[] data = new byte[(int) size];
            System.arraycopy(all, pos + 512, data, 0, (int) size);
            out.put(name, data);
            pos += 512 + (int) ((size + 511) / 512 * 512);
        }
        return out;
    }
}
