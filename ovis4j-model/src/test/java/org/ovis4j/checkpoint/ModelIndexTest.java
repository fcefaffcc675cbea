package org.ovis4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.testing.Goldens;

class ModelIndexTest {
    static final String OVIS = """
            {"_class_name": "OvisImagePipeline", "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
             "text_encoder": ["transformers", "Qwen3Model"], "tokenizer": ["transformers", "Qwen2TokenizerFast"],
             "transformer": ["diffusers", "OvisImageTransformer2DModel"], "vae": ["diffusers", "AutoencoderKL"]}""";

    static String error(Path dir, String json) throws IOException {
        Path f = Files.writeString(dir.resolve("model_index.json"), json);
        return assertThrows(OvisException.class, () -> ModelIndex.read(f)).getMessage().substring(f.toString().length());
    }

    @Test
    void theGoldenCheckpointsIndexIsOvisImage() {
        ModelIndex index = ModelIndex.read(Goldens.tiny().resolve("model_index.json"));
        assertEquals("OvisImageTransformer2DModel", index.classes().get("transformer"));
        assertEquals("Qwen2Tokenizer", index.classes().get("tokenizer"));
    }

    @Test
    void variantsHoldingTheSameWeightsAreAccepted(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("model_index.json"), OVIS.replace("\"Qwen3Model\"", "\"Qwen3ForCausalLM\"")
                .replace("[\"diffusers\", \"FlowMatchEulerDiscreteScheduler\"]", "[null, null]"));
        ModelIndex index = ModelIndex.read(f);
        assertEquals("Qwen3ForCausalLM", index.classes().get("text_encoder"));
        assertEquals(null, index.classes().get("scheduler"));
    }

    @Test
    void malformedOrForeignIndexesAreOneLineErrors(@TempDir Path dir) throws IOException {
        assertEquals(": invalid JSON at offset 1: unexpected end of input", error(dir, "{"));
        assertEquals(": top level is not a JSON object", error(dir, "[]"));
        assertEquals(": no \"_class_name\" (expected \"OvisImagePipeline\")", error(dir, "{}"));
        assertEquals(": \"_class_name\" is \"FluxPipeline\", not \"OvisImagePipeline\": not an Ovis-Image checkpoint",
                error(dir, OVIS.replace("OvisImagePipeline", "FluxPipeline")));
        assertEquals(": no \"vae\" entry", error(dir, OVIS.replace(", \"vae\": [\"diffusers\", \"AutoencoderKL\"]", "")));
        assertEquals(": vae class \"AutoencoderTiny\" is not one ovis4j loads (expected AutoencoderKL)",
                error(dir, OVIS.replace("AutoencoderKL", "AutoencoderTiny")));
        assertEquals(": text_encoder class \"T5EncoderModel\" is not one ovis4j loads (expected Qwen3ForCausalLM or Qwen3Model)",
                error(dir, OVIS.replace("Qwen3Model", "T5EncoderModel")));
        assertEquals(": transformer class null is not one ovis4j loads (expected OvisImageTransformer2DModel)",
                error(dir, OVIS.replace("[\"diffusers\", \"OvisImageTransformer2DModel\"]", "[null, null]")));
        assertEquals(": \"tokenizer\" must be [library, class], got \"Qwen2Tokenizer\"",
                error(dir, OVIS.replace("[\"transformers\", \"Qwen2TokenizerFast\"]", "\"Qwen2Tokenizer\"")));
    }

    @Test
    void detectChecksTheIndexBeforeAnythingIsOpened(@TempDir Path dir) throws IOException {
        Files.createDirectory(dir.resolve("transformer"));
        assertEquals(Layout.DIFFUSERS, CheckpointFolder.detect(dir).layout()); // no index: the folders decide
        Files.writeString(dir.resolve("model_index.json"), "{");
        OvisException e = assertThrows(OvisException.class, () -> CheckpointFolder.detect(dir));
        assertEquals(dir.resolve("model_index.json") + ": invalid JSON at offset 1: unexpected end of input", e.getMessage());
    }
}
