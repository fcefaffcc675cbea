package org.ovis4j.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * Builds the tiny checkpoint in the official (original) layout: the goldens' original/ transformer
 * and ae files, plus an {@code Ovis2.5-2B/} folder whose LLM weights carry the {@code llm.model.}
 * prefix next to a stand-in vision tensor, and whose config nests the Qwen3 values in llm_config.
 */
public final class OriginalLayoutCopy {
    private OriginalLayoutCopy() {}

    public static Path write(Path dir) throws IOException {
        Path tiny = Goldens.tiny();
        Files.createDirectories(dir.resolve("Ovis2.5-2B"));
        for (String f : new String[] {"ovis_image.safetensors", "ae.safetensors", "ovis_image_args.json", "ae_params.json"})
            Files.copy(tiny.resolve("original/" + f), dir.resolve(f));
        Files.copy(tiny.resolve("tokenizer/tokenizer.json"), dir.resolve("Ovis2.5-2B/tokenizer.json"));

        Map<String, Object> config = new LinkedHashMap<>();
        config.put("model_type", "ovis2_5");
        config.put("llm_config", Json.parseObject(tiny.resolve("text_encoder/config.json")));
        Files.writeString(dir.resolve("Ovis2.5-2B/config.json"), Json.write(config, 2));

        SafetensorsWriter w = new SafetensorsWriter();
        for (Map.Entry<String, Tensor> e : Goldens.read("text_encoder/model.safetensors").entrySet()) {
            Tensor t = e.getValue();
            w.add(new Tensor("llm.model." + e.getKey(), t.dtype(), t.shape(), t.data()));
        }
        w.addFloats("visual_tokenizer.vit.stand_in.weight", DType.F32, new long[] {2, 2}, new float[] {1, 2, 3, 4});
        w.write(dir.resolve("Ovis2.5-2B/model.safetensors"));
        return dir;
    }
}
