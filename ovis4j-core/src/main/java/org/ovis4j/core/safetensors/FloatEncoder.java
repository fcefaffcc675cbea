package org.ovis4j.core.safetensors;

import java.io.IOException;
import java.io.OutputStream;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Floats;

/** Encodes floats little-endian in a float dtype, in chunks. */
public final class FloatEncoder {
    private FloatEncoder() {}

    public static void write(float[] v, int from, int count, DType dtype, OutputStream out) throws IOException {
        byte[] buf = new byte[Math.min(count, 1 << 16) * dtype.bytes];
        int at = from, end = from + count;
        while (at < end) {
            int c = Math.min(buf.length / dtype.bytes, end - at);
            int p = 0;
            for (int k = 0; k < c; k++) {
                float f = v[at + k];
                switch (dtype) {
                    case F32 -> {
                        int b = Float.floatToRawIntBits(f);
                        buf[p++] = (byte) b; buf[p++] = (byte) (b >> 8); buf[p++] = (byte) (b >> 16); buf[p++] = (byte) (b >> 24);
                    }
                    case BF16, F16 -> {
                        short s = dtype == DType.BF16 ? Floats.floatToBf16(f) : Floats.floatToF16(f);
                        buf[p++] = (byte) s; buf[p++] = (byte) (s >> 8);
                    }
                    default -> throw new IllegalArgumentException("not a float dtype: " + dtype);
                }
            }
            out.write(buf, 0, p);
            at += c;
        }
    }
}
