package org.ovis4j.train.optim;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * Reading side of an optimizer or EMA state file: a safetensors file whose metadata names its format,
 * with one-line errors for everything a resumed run can get wrong (wrong file, missing or extra
 * tensors, changed shapes).
 */
final class StateFile implements AutoCloseable {
    private final Path path;
    private final Arena arena = Arena.ofConfined();
    private final SafetensorsFile file;

    private StateFile(Path path) {
        this.path = path;
        try {
            this.file = SafetensorsFile.read(path, arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    static StateFile open(Path path, String format) {
        StateFile f = new StateFile(path);
        String found = f.file.metadata().get("format");
        if (!format.equals(found)) {
            f.close();
            throw new OvisException(path + ": not an " + format + " state file (format " + (found == null ? "missing" : "\"" + found + "\"") + ")");
        }
        return f;
    }

    String metadata(String key) {
        String v = file.metadata().get(key);
        if (v == null) throw new OvisException(path + ": metadata key \"" + key + "\" missing");
        return v;
    }

    long longMetadata(String key) {
        String v = metadata(key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new OvisException(path + ": metadata \"" + key + "\" is not an integer: " + v);
        }
    }

    double doubleMetadata(String key) {
        String v = metadata(key);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new OvisException(path + ": metadata \"" + key + "\" is not a number: " + v);
        }
    }

    /** Copies the F32 tensor {@code name} of shape {@code shape} into {@code dst}. */
    void readFloats(String name, long[] shape, float[] dst) {
        Tensor t = file.tensors().get(name);
        if (t == null) throw new OvisException(path + ": tensor " + name + " missing (state of a different model?)");
        if (t.dtype() != DType.F32) throw new OvisException(path + ": tensor " + name + " is " + t.dtype() + ", expected F32");
        if (!Arrays.equals(t.shape(), shape))
            throw new OvisException(path + ": tensor " + name + " has shape " + Arrays.toString(t.shape()) + ", the parameter "
                    + Arrays.toString(shape));
        t.readFloats(0, dst, 0, dst.length);
    }

    /** Fails when the file holds tensors beyond {@code expected} (a state of a larger model, or of other parameters). */
    void requireOnly(List<String> expected) {
        Set<String> known = new HashSet<>(expected);
        for (String name : file.tensors().keySet())
            if (!known.contains(name)) throw new OvisException(path + ": tensor " + name + " has no matching trainable parameter");
    }

    @Override
    public void close() {
        arena.close();
    }
}
