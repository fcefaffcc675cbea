package org.ovis4j.core.tensor;

import org.ovis4j.core.OvisException;

/** Element types as safetensors names them; only the float types can hold weights. */
public enum DType {
    F32(4, "F32"),
    F16(2, "F16"),
    BF16(2, "BF16"),
    F64(8, "F64"),
    I64(8, "I64"),
    I32(4, "I32"),
    I16(2, "I16"),
    I8(1, "I8"),
    U8(1, "U8"),
    BOOL(1, "BOOL");

    public final int bytes;
    public final String safetensorsName;

    DType(int bytes, String safetensorsName) {
        this.bytes = bytes;
        this.safetensorsName = safetensorsName;
    }

    public boolean isFloat() {
        return this == F32 || this == F16 || this == BF16 || this == F64;
    }

    public static DType fromSafetensors(String name, String where) {
        for (DType d : values()) if (d.safetensorsName.equals(name)) return d;
        throw new OvisException(where + ": unknown dtype \"" + name + "\"");
    }

    /** Parses a user-facing name such as {@code bf16} or {@code fp32}. */
    public static DType parse(String name) {
        return switch (name.toLowerCase()) {
            case "f32", "fp32", "float32" -> F32;
            case "f16", "fp16", "float16" -> F16;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new OvisException("unknown dtype \"" + name + "\" (expected f32, f16 or bf16)");
        };
    }
}
