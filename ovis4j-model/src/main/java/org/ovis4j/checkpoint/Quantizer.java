package org.ovis4j.checkpoint;

import org.ovis4j.core.io.FileTrees;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.quant.Q8_0;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.ParameterSpec;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.text.Qwen3Config;
import org.ovis4j.text.Qwen3Model;

/**
 * Writes a copy of a checkpoint whose transformer and text-encoder matrices (the linear weights of
 * their parameter walks, found under the names the layout stores them by) are Q8_0: each such
 * {@code X.weight} becomes int8 [out, in] plus {@code X.weight_scale} f16 [out, in/32]
 * ({@link StoreWeights} reads the pair back). Embeddings, norms, biases and the VAE stay as they
 * are, as does every other file. The result is written beside the target and renamed into place.
 */
public final class Quantizer {
    private Quantizer() {}

    public static void q8_0(Path source, Path out, Consumer<String> log) {
        CheckpointFolder folder = CheckpointFolder.detect(source);
        Set<Path> transformer = Set.copyOf(abs(folder.transformerFiles()));
        Set<Path> text = Set.copyOf(abs(folder.textEncoderFiles()));
        Predicate<String> ditWanted = transformerMatrices(folder)::contains;
        Predicate<String> textWanted = textEncoderMatrices(folder)::contains;
        try {
            if (Files.exists(out) && (!Files.isDirectory(out) || Files.list(out).findAny().isPresent()))
                throw new OvisException(out + ": output folder is not empty");
            Path tmp = out.toAbsolutePath().resolveSibling(out.getFileName() + ".partial");
            FileTrees.delete(tmp);
            Path root = source.toAbsolutePath().normalize();
            List<Path> files;
            try (var walk = Files.walk(root)) {
                files = walk.filter(Files::isRegularFile).sorted().toList();
            }
            for (Path f : files) {
                Path target = tmp.resolve(root.relativize(f).toString());
                Files.createDirectories(target.getParent());
                Path key = f.toAbsolutePath().normalize();
                boolean index = f.getFileName().toString().endsWith(".safetensors.index.json");
                if (transformer.contains(key)) quantizeFile(f, target, ditWanted, log);
                else if (text.contains(key)) quantizeFile(f, target, textWanted, log);
                else if (index && inFolderOf(key, transformer)) writeIndex(f, target, ditWanted);
                else if (index && inFolderOf(key, text)) writeIndex(f, target, textWanted);
                else Files.copy(f, target);
            }
            if (Files.exists(out)) Files.delete(out);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new OvisException(out + ": cannot write checkpoint (" + e.getMessage() + ")");
        }
    }

    /**
     * The stored names of the transformer's linear weights (its walk's, through the original
     * layout's name map where the store uses it: a fused qkv tensor is one matrix of three modules).
     */
    static Set<String> transformerMatrices(CheckpointFolder folder) {
        TransformerConfig cfg = TransformerConfig.read(folder);
        NameMap names;
        try (TensorStore s = TensorStore.open("transformer", folder.transformerFiles())) {
            names = OriginalTransformerNames.matches(s) ? OriginalTransformerNames.map(cfg) : null;
        }
        Set<String> stored = new HashSet<>();
        for (ParameterSpec p : linearWeights(cfg.parameters())) {
            List<NameMap.Part> parts = names == null ? null : names.lookup(p.name());
            if (parts == null) stored.add(p.name());
            else for (NameMap.Part part : parts) stored.add(part.source());
        }
        return stored;
    }

    /** The stored names of the text encoder's linear weights (not the embeddings, nor an lm_head). */
    static Set<String> textEncoderMatrices(CheckpointFolder folder) {
        String prefix;
        try (TensorStore s = TensorStore.open("text encoder", folder.textEncoderFiles())) {
            prefix = Qwen3Model.detectPrefix(s);
        }
        Set<String> stored = new HashSet<>();
        for (ParameterSpec p : linearWeights(Qwen3Config.readFolder(folder.textEncoderDir()).parameters())) stored.add(prefix + p.name());
        return stored;
    }

    private static List<ParameterSpec> linearWeights(List<ParameterSpec> walk) {
        return walk.stream().filter(p -> p.kind() == ParameterSpec.Kind.LINEAR_WEIGHT).toList();
    }

    /** Which of the wanted matrices of a file are quantized: float ones whose rows split into 32-blocks. */
    static boolean quantizable(Tensor t) {
        return t.name().endsWith(".weight") && t.rank() == 2 && t.dtype().isFloat() && t.dim(1) % Q8_0.BLOCK == 0;
    }

    private static void quantizeFile(Path in, Path out, Predicate<String> wanted, Consumer<String> log) {
        long t0 = System.nanoTime();
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            SafetensorsFile file = SafetensorsFile.open(in, arena);
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt").metadata("quantization", "q8_0 (ovis4j)");
            int quantized = 0;
            for (Tensor t : file.tensors().values()) {
                if (!quantizable(t) || !wanted.test(t.name())) {
                    w.add(t);
                    continue;
                }
                quantized++;
                int rows = Math.toIntExact(t.dim(0)), cols = Math.toIntExact(t.dim(1)), blocks = cols / Q8_0.BLOCK;
                w.add(t.name(), DType.I8, t.shape(), o -> eachRow(t, rows, cols, (row, x) -> {
                    byte[] q = new byte[cols];
                    for (int b = 0; b < blocks; b++)
                        Q8_0.quantizeBlock(x, b * Q8_0.BLOCK, Q8_0.scaleBits(x, b * Q8_0.BLOCK), q, b * Q8_0.BLOCK);
                    o.write(q);
                }));
                w.add(t.name() + StoreWeights.Q8_SCALE_SUFFIX, DType.F16, new long[] {rows, blocks}, o -> eachRow(t, rows, cols, (row, x) -> {
                    byte[] s = new byte[2 * blocks];
                    for (int b = 0; b < blocks; b++) {
                        short bits = Q8_0.scaleBits(x, b * Q8_0.BLOCK);
                        s[2 * b] = (byte) bits;
                        s[2 * b + 1] = (byte) (bits >> 8);
                    }
                    o.write(s);
                }));
            }
            w.write(out);
            if (log != null) log.accept(String.format("%s: %d matrices to q8_0 in %.1f s", in.getFileName(), quantized,
                    (System.nanoTime() - t0) / 1e9));
        }
    }

    private interface RowSink {
        void accept(int row, float[] values) throws IOException;
    }

    private static void eachRow(Tensor t, int rows, int cols, RowSink sink) throws IOException {
        float[] x = new float[cols];
        for (int r = 0; r < rows; r++) {
            t.readFloats((long) r * cols, x, 0, cols);
            sink.accept(r, x);
        }
    }

    private static boolean inFolderOf(Path index, Set<Path> weights) {
        return weights.stream().anyMatch(p -> p.getParent().equals(index.getParent()));
    }

    /** A shard index gains an entry for every scale tensor, in the shard of its matrix. */
    @SuppressWarnings("unchecked")
    private static void writeIndex(Path in, Path out, Predicate<String> wanted) throws IOException {
        Map<String, Object> index = Json.parseObject(in);
        Map<String, Object> map = (Map<String, Object>) index.get("weight_map");
        if (map == null) throw new OvisException(in + ": missing key \"weight_map\"");
        Map<String, Object> updated = new LinkedHashMap<>(map);
        Path dir = in.getParent();
        Map<String, Map<String, Tensor>> shards = new LinkedHashMap<>();
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            for (var e : map.entrySet()) {
                String shard = String.valueOf(e.getValue());
                Map<String, Tensor> ts = shards.computeIfAbsent(shard, s -> SafetensorsFile.open(dir.resolve(s), arena).tensors());
                Tensor t = ts.get(e.getKey());
                if (t != null && quantizable(t) && wanted.test(t.name())) updated.put(e.getKey() + StoreWeights.Q8_SCALE_SUFFIX, shard);
            }
        }
        index.put("weight_map", updated);
        Files.writeString(out, Json.write(index, 2) + "\n");
    }

    private static List<Path> abs(List<Path> ps) {
        return ps.stream().map(p -> p.toAbsolutePath().normalize()).collect(Collectors.toList());
    }

}
