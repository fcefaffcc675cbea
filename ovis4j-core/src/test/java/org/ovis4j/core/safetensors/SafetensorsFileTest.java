package org.ovis4j.core.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

class SafetensorsFileTest {
    @TempDir Path dir;

    private Path raw(String header, int dataBytes) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = dir.resolve("t" + System.nanoTime() + ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    private String error(Path p) {
        try (Arena a = Arena.ofConfined()) {
            return assertThrows(OvisException.class, () -> SafetensorsFile.open(p, a)).getMessage();
        }
    }

    @Test
    void roundTripsEveryFloatDtype() {
        float[] v = {1f, -2.5f, 3.25f, 0f, 1e-3f, 65504f};
        Path p = dir.resolve("w.safetensors");
        new SafetensorsWriter().addFloats("a", DType.F32, new long[] {2, 3}, v).addFloats("b", DType.BF16, new long[] {6}, v)
                .addFloats("c", DType.F16, new long[] {3, 2}, v).metadata("format", "pt").write(p);
        assertFalse(Files.exists(dir.resolve("w.safetensors.partial")));
        try (TensorStore s = TensorStore.open("test", List.of(p))) {
            assertArrayEquals(v, s.get("a").toFloats());
            assertArrayEquals(new long[] {6}, s.get("b").shape());
            float[] b = s.get("b").toFloats();
            for (int i = 0; i < v.length; i++) assertEquals(v[i], b[i], Math.abs(v[i]) / 128);
            float[] c = s.get("c").toFloats();
            for (int i = 0; i < v.length; i++) assertEquals(v[i], c[i], Math.abs(v[i]) / 1024);
            assertEquals(DType.F16, s.get("c").dtype());
            assertTrue(s.get("a").data().isReadOnly(), "weights are mapped read-only, in place");
            assertEquals("test: missing tensor \"d\"", assertThrows(OvisException.class, () -> s.get("d")).getMessage());
        }
    }

    @Test
    void rejectsLyingOrTruncatedFiles() throws Exception {
        assertTrue(error(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8))
                .contains("outside the data area"));
        assertTrue(error(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8))
                .contains("8 bytes for shape [3] F32 (expected 12)"));
        assertTrue(error(raw("{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8))
                .contains("unknown dtype \"Q4\""));
        assertTrue(error(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12)).contains("overlap"));
        assertTrue(error(raw("{\"a\":", 0)).contains("not valid JSON"));
        Path huge = dir.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertTrue(error(huge).contains("corrupt safetensors header length"));
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[3]);
        assertTrue(error(tiny).contains("truncated"));
        assertTrue(error(dir.resolve("absent.safetensors")).endsWith("file not found"));
    }

    @Test
    void shardedIndex() throws Exception {
        new SafetensorsWriter().addFloats("x", DType.F32, new long[] {1}, new float[] {1}).write(dir.resolve("m-1.safetensors"));
        new SafetensorsWriter().addFloats("y", DType.F32, new long[] {1}, new float[] {2}).write(dir.resolve("m-2.safetensors"));
        Files.writeString(dir.resolve("m.safetensors.index.json"),
                "{\"metadata\":{},\"weight_map\":{\"x\":\"m-1.safetensors\",\"y\":\"m-2.safetensors\"}}");
        try (TensorStore s = TensorStore.openFolder(dir)) {
            assertEquals(2f, s.get("y").getFloat(0));
            assertEquals(2, s.files().size());
        }
        Files.writeString(dir.resolve("m.safetensors.index.json"), "{\"weight_map\":{\"x\":\"gone.safetensors\"}}");
        assertTrue(assertThrows(OvisException.class, () -> TensorStore.openFolder(dir)).getMessage()
                .endsWith("shard gone.safetensors not found"));
    }

    @Test
    void tensorViewsShareMemory() {
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Tensor.ofFloats("t", new long[] {3, 2}, new float[] {1, 2, 3, 4, 5, 6}, a);
            assertArrayEquals(new float[] {3, 4, 5, 6}, t.rows(1, 3).toFloats());
            assertEquals(t.data().address() + 8, t.rows(1, 3).data().address());
        }
    }
}
