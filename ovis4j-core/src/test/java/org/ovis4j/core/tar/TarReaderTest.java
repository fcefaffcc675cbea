package org.ovis4j.core.tar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;

class TarReaderTest {
    @TempDir Path dir;

    /** Sizes around the 512-byte block boundary, and an empty entry. */
    private static final int[] SIZES = {0, 1, 7, 511, 512, 513, 1024, 33_000};

    private static byte[] archive(List<String> names, List<byte[]> contents) throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(bos)) {
            for (int i = 0; i < names.size(); i++) w.add(names.get(i), contents.get(i));
        }
        return bos.toByteArray();
    }

    private static List<byte[]> randomContents(long seed) {
        Random r = new Random(seed);
        List<byte[]> out = new ArrayList<>();
        for (int s : SIZES) {
            byte[] b = new byte[s];
            r.nextBytes(b);
            out.add(b);
        }
        return out;
    }

    private static List<String> names() {
        List<String> n = new ArrayList<>();
        for (int i = 0; i < SIZES.length; i++) n.add(String.format("%06d.%s", i / 2, i % 2 == 0 ? "png" : "json"));
        return n;
    }

    @Test
    void readsBackWhatTheWriterWroteEntryByEntry() throws Exception {
        List<byte[]> contents = randomContents(1);
        byte[] tar = archive(names(), contents);
        try (TarReader r = new TarReader(new ByteArrayInputStream(tar), "mem.tar")) {
            long offset = 0;
            for (int i = 0; i < SIZES.length; i++) {
                TarReader.Entry e = r.next();
                assertEquals(names().get(i), e.name());
                assertEquals(SIZES[i], e.size());
                assertEquals(offset, e.offset(), "header offset of entry " + i);
                assertArrayEquals(contents.get(i), r.readData());
                offset += 512 + (SIZES[i] + 511) / 512 * 512;
            }
            assertNull(r.next());
            assertNull(r.next(), "the end stays the end");
        }
    }

    @Test
    void skipsEntriesWhoseContentsAreNotAskedFor() throws Exception {
        List<byte[]> contents = randomContents(2);
        byte[] tar = archive(names(), contents);
        try (TarReader r = new TarReader(new ByteArrayInputStream(tar), "mem.tar")) {
            for (int i = 0; i < SIZES.length; i++) {
                TarReader.Entry e = r.next();
                assertEquals(names().get(i), e.name());
                // every other entry is read; the others are skipped unread
                if (i % 2 == 1) assertArrayEquals(contents.get(i), r.readData());
            }
            assertNull(r.next());
        }
    }

    @Test
    void readAllOfAFileKeepsArchiveOrder() throws Exception {
        List<byte[]> contents = randomContents(3);
        Path p = dir.resolve("a.tar");
        Files.write(p, archive(names(), contents));
        Map<String, byte[]> all = TarReader.readAll(p);
        assertEquals(names(), new ArrayList<>(all.keySet()));
        for (int i = 0; i < SIZES.length; i++) assertArrayEquals(contents.get(i), all.get(names().get(i)));
    }

    /** A ustar header as other tools write it, for the entry kinds TarWriter never produces. */
    private static byte[] header(String name, long size, char type, String prefix) {
        byte[] h = new byte[512];
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(n, 0, h, 0, n.length);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", size));
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 257, "ustar");
        h[263] = '0';
        h[264] = '0';
        if (prefix != null) put(h, 345, prefix);
        Arrays.fill(h, 148, 156, (byte) ' ');
        int sum = 0;
        for (byte b : h) sum += b & 0xFF;
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        return h;
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }

    private static void entry(ByteArrayOutputStream out, byte[] header, byte[] data) {
        out.writeBytes(header);
        out.writeBytes(data);
        out.writeBytes(new byte[(512 - data.length % 512) % 512]);
    }

    private static String paxRecord(String key, String value) {
        String body = " " + key + "=" + value + "\n";
        int len = body.getBytes(StandardCharsets.UTF_8).length;
        int total = len + Integer.toString(len).length();
        if (Integer.toString(total).length() != Integer.toString(len).length()) total++;
        return total + body;
    }

    @Test
    void understandsPaxGnuLongNamesPrefixesAndPassesOverDirectories() throws Exception {
        String longName = "dir/" + "k".repeat(120) + ".txt";
        String unicode = "数据/样本-000001.txt";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        entry(out, header("shards/", 0, '5', null), new byte[0]);
        byte[] pax = (paxRecord("path", unicode) + paxRecord("mtime", "1700000000.5")).getBytes(StandardCharsets.UTF_8);
        entry(out, header("PaxHeaders/x", pax.length, 'x', null), pax);
        entry(out, header("ignored-name", 3, '0', null), "abc".getBytes(StandardCharsets.US_ASCII));
        byte[] gnu = (longName + "\0").getBytes(StandardCharsets.UTF_8);
        entry(out, header("././@LongLink", gnu.length, 'L', null), gnu);
        entry(out, header("truncated-name", 2, '0', null), "de".getBytes(StandardCharsets.US_ASCII));
        entry(out, header("000002.json", 1, '0', "some/prefix"), "f".getBytes(StandardCharsets.US_ASCII));
        entry(out, header("link", 0, '2', null), new byte[0]);
        out.writeBytes(new byte[1024]);
        try (TarReader r = new TarReader(new ByteArrayInputStream(out.toByteArray()), "mixed.tar")) {
            TarReader.Entry a = r.next();
            assertEquals(unicode, a.name());
            assertEquals("abc", new String(r.readData(), StandardCharsets.US_ASCII));
            TarReader.Entry b = r.next();
            assertEquals(longName, b.name());
            assertEquals("de", new String(r.readData(), StandardCharsets.US_ASCII));
            assertEquals("some/prefix/000002.json", r.next().name());
            assertNull(r.next(), "the symbolic link is not a file");
        }
    }

    @Test
    void aTruncatedArchiveIsAnErrorNamingIt() throws Exception {
        byte[] tar = archive(names(), randomContents(4));
        // cut inside the last entry's contents, and between entries (no end-of-archive block)
        int lastHeader = tar.length - 1024 - 33_280 - 512;
        for (int cut : new int[] {tar.length - 1024 - 100, lastHeader}) {
            byte[] part = Arrays.copyOf(tar, cut);
            OvisException e = assertThrows(OvisException.class, () -> {
                try (TarReader r = new TarReader(new ByteArrayInputStream(part), "cut.tar")) {
                    while (r.next() != null) r.readData();
                }
            });
            assertTrue(e.getMessage().startsWith("cut.tar: truncated"), e.getMessage());
        }
    }

    @Test
    void aDamagedHeaderIsAnErrorWithItsOffset() throws Exception {
        byte[] tar = archive(names(), randomContents(5));
        tar[512 + 3] ^= 0x5A; // the name in the header of entry 1 (entry 0 is empty: a header only)
        try (TarReader r = new TarReader(new ByteArrayInputStream(tar), "bad.tar")) {
            r.next();
            OvisException e = assertThrows(OvisException.class, r::next);
            assertTrue(e.getMessage().startsWith("bad.tar: damaged tar header at byte 512 (checksum "), e.getMessage());
        }
        byte[] notTar = "this is not a tar archive at all".repeat(40).getBytes(StandardCharsets.US_ASCII);
        try (TarReader r = new TarReader(new ByteArrayInputStream(notTar), "text.tar")) {
            OvisException e = assertThrows(OvisException.class, r::next);
            assertTrue(e.getMessage().startsWith("text.tar: "), e.getMessage());
        }
    }

    @Test
    void aMissingFileIsAnErrorNamingIt() {
        Path p = dir.resolve("nope.tar");
        OvisException e = assertThrows(OvisException.class, () -> TarReader.open(p));
        assertEquals(p + ": file not found", e.getMessage());
    }
}
