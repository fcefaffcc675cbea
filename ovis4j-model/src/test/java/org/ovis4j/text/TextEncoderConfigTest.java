package org.ovis4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.testing.Goldens;

class TextEncoderConfigTest {
    static final Qwen3Config TINY = new Qwen3Config(64, 128, 2, 4, 2, 16, 1024, 1e-6, 1e6);

    /** transformers 4 spelling of the tiny config: top-level rope_theta, torch_dtype, rope_scaling null. */
    static final String TF4 = """
            {
              "architectures": ["Qwen3ForCausalLM"],
              "attention_bias": false,
              "head_dim": 16,
              "hidden_act": "silu",
              "hidden_size": 64,
              "intermediate_size": 128,
              "max_position_embeddings": 512,
              "model_type": "qwen3",
              "num_attention_heads": 4,
              "num_hidden_layers": 2,
              "num_key_value_heads": 2,
              "rms_norm_eps": 1e-06,
              "rope_scaling": null,
              "rope_theta": 1000000,
              "sliding_window": null,
              "torch_dtype": "bfloat16",
              "use_sliding_window": false,
              "vocab_size": 1024
            }
            """;

    static Path write(Path dir, String name, String json) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, json);
        return p;
    }

    @Test
    void goldenConfigParses() {
        assertEquals(TINY, Qwen3Config.readFolder(Goldens.tiny().resolve("text_encoder")));
    }

    @Test
    void transformers4StyleParsesIdentically(@TempDir Path dir) throws IOException {
        assertEquals(TINY, Qwen3Config.read(write(dir, "config.json", TF4)));
    }

    @Test
    void ovis25FolderConfigReadsTheNestedLlm(@TempDir Path dir) throws IOException {
        // Ovis2.5 config.json: wrapper keys at top level (whose sizes need not be the LLM's), LLM under llm_config
        String ovis = "{\"architectures\": [\"Ovis2_5\"], \"model_type\": \"ovis2_5\", \"hidden_size\": 4096,"
                + " \"vocab_size\": 151936, \"llm_config\": " + TF4 + ", \"vit_config\": {\"hidden_size\": 1152}}";
        assertEquals(TINY, Qwen3Config.read(write(dir, "config.json", ovis)));
        String textConfig = "{\"model_type\": \"x\", \"text_config\": " + TF4 + "}";
        assertEquals(TINY, Qwen3Config.read(write(dir, "text.json", textConfig)));
    }

    @Test
    void headDimDefaultsToHiddenOverHeads(@TempDir Path dir) throws IOException {
        assertEquals(TINY, Qwen3Config.read(write(dir, "c.json", TF4.replace("\"head_dim\": 16,", ""))));
    }

    @Test
    void missingKeyNamesFileAndKey(@TempDir Path dir) throws IOException {
        Path p = write(dir, "config.json", TF4.replace("\"num_key_value_heads\": 2,", ""));
        OvisException e = assertThrows(OvisException.class, () -> Qwen3Config.read(p));
        assertEquals(p + ": missing key \"num_key_value_heads\"", e.getMessage());

        Path nested = write(dir, "ovis.json", "{\"llm_config\": " + TF4.replace("\"rms_norm_eps\": 1e-06,", "") + "}");
        e = assertThrows(OvisException.class, () -> Qwen3Config.read(nested));
        assertEquals(nested + " (llm_config): missing key \"rms_norm_eps\"", e.getMessage());

        Path noTheta = write(dir, "notheta.json", TF4.replace("\"rope_theta\": 1000000,", ""));
        e = assertThrows(OvisException.class, () -> Qwen3Config.read(noTheta));
        assertEquals(noTheta + ": missing key \"rope_theta\" (top level or in \"rope_parameters\")", e.getMessage());
    }

    @Test
    void ropeScalingIsRejected(@TempDir Path dir) throws IOException {
        Path tf4 = write(dir, "a.json", TF4.replace("\"rope_scaling\": null",
                "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}"));
        OvisException e = assertThrows(OvisException.class, () -> Qwen3Config.read(tf4));
        assertEquals(tf4 + " (rope_scaling): rope type \"yarn\" is not supported (only default RoPE)", e.getMessage());
        Path tf5 = write(dir, "b.json", TF4.replace("\"rope_scaling\": null",
                "\"rope_parameters\": {\"rope_type\": \"linear\", \"factor\": 2.0, \"rope_theta\": 1000000.0}"));
        e = assertThrows(OvisException.class, () -> Qwen3Config.read(tf5));
        assertEquals(tf5 + " (rope_parameters): rope type \"linear\" is not supported (only default RoPE)", e.getMessage());
        Path legacy = write(dir, "c.json", TF4.replace("\"rope_scaling\": null",
                "\"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2.0}"));
        assertThrows(OvisException.class, () -> Qwen3Config.read(legacy));
        Path dflt = write(dir, "d.json", TF4.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"default\"}"));
        assertEquals(TINY, Qwen3Config.read(dflt));
    }

    @Test
    void unsupportedVariantsAreRejected(@TempDir Path dir) throws IOException {
        for (String[] r : new String[][] {
                {"\"attention_bias\": false", "\"attention_bias\": true"},
                {"\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\""},
                {"\"use_sliding_window\": false", "\"use_sliding_window\": true"}}) {
            Path p = write(dir, "v.json", TF4.replace(r[0], r[1]));
            assertThrows(OvisException.class, () -> Qwen3Config.read(p), r[1]);
        }
    }

    @Test
    void parameterCounts() {
        assertEquals(1_720_574_976L, Qwen3Config.ovis25_2B().parameterCount()); // spec section 6
        try (TensorStore s = TensorStore.openFolder(Goldens.tiny().resolve("text_encoder"))) {
            assertEquals(s.tensors().values().stream().mapToLong(Tensor::numel).sum(), TINY.parameterCount());
        }
    }
}
