package org.ovis4j.train.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.checkpoint.NameMap;
import org.ovis4j.checkpoint.OriginalTransformerNames;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.testing.TrainingGoldens;

/**
 * Training loads both published layouts through the model module's loader: the tiny checkpoint is
 * rewritten in the official layout ({@code ovis_image.safetensors} with fused qkv/linear1, separate
 * SwiGLU halves, the final modulation's halves swapped, and {@code ovis_image_args.json}) by inverting
 * the model's own name map, and must give the same 105 parameters, bit for bit, in the same order.
 */
class CheckpointLayoutTest {
    @Test
    void originalLayoutGivesTheSameParameters(@TempDir Path dir) throws IOException {
        Path tiny = TrainingGoldens.tinyModel();
        TransformerConfig cfg = TransformerConfig.fromDiffusers(tiny.resolve("transformer/config.json"));
        assertEquals(85, writeOriginal(tiny, cfg, dir), "tensors of the official layout (goldens README 3.2)");
        TrainableTransformer diffusers = TrainableTransformer.load(tiny), original = TrainableTransformer.load(dir);
        Iterator<Parameter> a = diffusers.parameters().iterator(), b = original.parameters().iterator();
        int n = 0;
        while (a.hasNext()) {
            Parameter p = a.next(), q = b.next();
            assertEquals(p.name(), q.name());
            assertArrayEquals(p.shape(), q.shape(), p.name());
            assertArrayEquals(p.value(), q.value(), p.name());
            n++;
        }
        assertEquals(false, b.hasNext());
        assertEquals(105, n);
    }

    /** The inverse of {@link OriginalTransformerNames#map}: each stored tensor assembled from the diffusers row blocks that name it. */
    static int writeOriginal(Path tiny, TransformerConfig cfg, Path dir) throws IOException {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, float[]> values = new LinkedHashMap<>();
        try (TensorStore store = TensorStore.openFolder(tiny.resolve("transformer"))) {
            NameMap map = OriginalTransformerNames.map(cfg);
            for (int pass = 0; pass < 2; pass++)
                for (var e : map.entries().entrySet()) {
                    Tensor t = store.get(e.getKey());
                    float[] v = t.toFloats();
                    long[] shape = t.shape();
                    int width = (int) (t.numel() / shape[0]);
                    List<NameMap.Part> parts = e.getValue();
                    long at = 0;
                    for (NameMap.Part part : parts) {
                        long rows = part.count() < 0 ? shape[0] / parts.size() : part.count();
                        if (pass == 0) {
                            long[] s = shapes.computeIfAbsent(part.source(), k -> shape.clone());
                            s[0] = Math.max(part.count() < 0 ? rows : s[0], part.from() + rows);
                        } else {
                            float[] dst = values.computeIfAbsent(part.source(), k -> new float[(int) Tensor.numel(shapes.get(k))]);
                            System.arraycopy(v, (int) at * width, dst, (int) part.from() * width, (int) rows * width);
                        }
                        at += rows;
                    }
                }
        }
        SafetensorsWriter w = new SafetensorsWriter();
        values.forEach((name, v) -> w.addFloats(name, DType.F32, shapes.get(name), v));
        w.write(dir.resolve("ovis_image.safetensors"));
        Files.writeString(dir.resolve("ovis_image_args.json"), String.format(
                "{\"in_channels\": %d, \"out_channels\": %d, \"context_in_dim\": %d, \"hidden_size\": %d, \"mlp_ratio\": 4.0, "
                        + "\"num_heads\": %d, \"depth\": %d, \"depth_single_blocks\": %d, \"axes_dim\": [%d, %d, %d], \"theta\": 10000}",
                cfg.inChannels(), cfg.outChannels(), cfg.jointAttentionDim(), cfg.innerDim(), cfg.numAttentionHeads(), cfg.numLayers(),
                cfg.numSingleLayers(), cfg.axesDimsRope()[0], cfg.axesDimsRope()[1], cfg.axesDimsRope()[2]));
        return values.size();
    }
}
