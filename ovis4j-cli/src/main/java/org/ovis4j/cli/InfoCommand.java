package org.ovis4j.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.checkpoint.OriginalTransformerNames;
import org.ovis4j.checkpoint.StoreWeights;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.text.Qwen3Config;
import org.ovis4j.tokenizer.Qwen3Tokenizer;
import org.ovis4j.vae.VaeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Describe a checkpoint: layout, each component's dtype, sizes and parameter count.")
final class InfoCommand implements Callable<Integer> {
    @Mixin
    ModelOption model;

    @Override
    public Integer call() {
        Path dir = model.folder();
        CheckpointFolder f = CheckpointFolder.detect(dir);
        System.out.println("checkpoint   " + dir.toAbsolutePath().normalize());
        System.out.println("layout       " + f.layout().name().toLowerCase());

        TransformerConfig t = TransformerConfig.read(f);
        try (TensorStore s = TensorStore.open("transformer", f.transformerFiles())) {
            String names = OriginalTransformerNames.matches(s) ? "original names" : "diffusers names";
            component("transformer", s, f.transformerFiles(), names);
            System.out.printf("  %d double + %d single blocks, width %d, %d heads x %d, text width %d, rope axes %s%n",
                    t.numLayers(), t.numSingleLayers(), t.innerDim(), t.numAttentionHeads(), t.attentionHeadDim(),
                    t.jointAttentionDim(), java.util.Arrays.toString(t.axesDimsRope()));
            System.out.printf("  config implies %,d parameters%n", t.parameterCount());
        }

        Qwen3Config q = Qwen3Config.readFolder(f.textEncoderDir());
        try (TensorStore s = TensorStore.open("text encoder", f.textEncoderFiles())) {
            component("text encoder", s, f.textEncoderFiles(), "Qwen3");
            System.out.printf("  %d layers, hidden %d, %d query / %d key-value heads x %d, mlp %d, vocab %d, rope theta %.0f%n",
                    q.numHiddenLayers(), q.hiddenSize(), q.numAttentionHeads(), q.numKeyValueHeads(), q.headDim(),
                    q.intermediateSize(), q.vocabSize(), q.ropeTheta());
            System.out.printf("  config implies %,d parameters%n", q.parameterCount());
        }

        VaeConfig v = VaeConfig.read(f);
        try (TensorStore s = TensorStore.open("vae", f.vaeFiles())) {
            component("vae", s, f.vaeFiles(), "AutoencoderKL");
            System.out.printf("  channels %s, %d latent channels, %d groups, scaling %.4f, shift %.4f%n",
                    java.util.Arrays.toString(v.blockOutChannels()), v.latentChannels(), v.normNumGroups(),
                    v.scalingFactor(), v.shiftFactor());
            System.out.printf("  config implies %,d parameters%n", v.parameterCount());
        }

        Qwen3Tokenizer tok = Qwen3Tokenizer.load(f.tokenizerJson());
        System.out.printf("tokenizer    %d tokens (%s)%n", tok.vocabSize(), f.tokenizerJson());
        System.out.println("scheduler    " + (f.schedulerConfig() != null ? f.schedulerConfig() : "defaults (no scheduler_config.json)"));
        return 0;
    }

    /** One line per component: tensor and parameter counts per stored dtype, and the bytes on disk. */
    private static void component(String what, TensorStore s, List<Path> files, String kind) {
        // Q8_0 matrices are int8 tensors with a companion "<name>_scale": counted as one q8_0 weight.
        Map<String, long[]> byType = new TreeMap<>();
        long params = 0, bytes = 0, weights = 0;
        for (Tensor t : s.tensors().values()) {
            bytes += t.data().byteSize();
            if (t.name().endsWith(StoreWeights.Q8_SCALE_SUFFIX) && s.has(t.name().substring(0, t.name().length() - StoreWeights.Q8_SCALE_SUFFIX.length())))
                continue;
            boolean q8 = t.dtype() == DType.I8 && s.has(t.name() + StoreWeights.Q8_SCALE_SUFFIX);
            byType.computeIfAbsent(q8 ? "q8_0" : t.dtype().name().toLowerCase(), k -> new long[1])[0]++;
            params += t.numel();
            weights++;
        }
        StringBuilder types = new StringBuilder();
        for (var e : byType.entrySet()) types.append(types.isEmpty() ? "" : ", ").append(e.getKey()).append(" x").append(e.getValue()[0]);
        System.out.printf("%-12s %,d parameters in %d tensors (%s), %d file(s), %.2f GB, %s%n", what, params,
                weights, types, files.size(), bytes / 1e9, kind);
    }
}
