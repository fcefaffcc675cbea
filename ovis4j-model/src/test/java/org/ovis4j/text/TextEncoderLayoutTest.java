package org.ovis4j.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.testing.Goldens;

/** The same LLM weights stored under each supported key prefix give the same encoder output. */
class TextEncoderLayoutTest {
    static final Path TINY_TE = Goldens.tiny().resolve("text_encoder");

    /** The golden text-encoder tensors renamed with {@code prefix}, plus tensors a real file of that kind carries. */
    static Path renamedCopy(Path dir, String prefix, String... extra) {
        Path file = dir.resolve(prefix.isEmpty() ? "plain" : prefix.replace('.', '_')).resolve("model.safetensors");
        try (TensorStore src = TensorStore.openFolder(TINY_TE)) {
            SafetensorsWriter w = new SafetensorsWriter();
            for (String e : extra) w.addFloats(e, DType.F32, new long[] {2, 3}, new float[6]);
            for (Tensor t : src.tensors().values()) {
                Tensor renamed = new Tensor(prefix + t.name(), t.dtype(), t.shape(), t.data());
                w.add(renamed);
            }
            w.write(file);
        }
        return file.getParent();
    }

    static float[] encode(Path folder, String expectedPrefix) {
        try (TensorStore store = TensorStore.openFolder(folder)) {
            assertEquals(expectedPrefix, Qwen3Model.detectPrefix(store));
            Qwen3Model m = Qwen3Model.load(store, Qwen3Config.readFolder(TINY_TE), null);
            return new OvisTextEncoder(m).encode(TextEncoderForwardTest.ids(0), TextEncoderForwardTest.mask(0));
        }
    }

    @Test
    void allPrefixesGiveIdenticalOutputs(@TempDir Path dir) {
        float[] plain = encode(TINY_TE, "");
        // Same weights, same arithmetic; compared at 1e-6 rather than bit for bit only because the core
        // attention's vector lane reduction may round differently once the JIT has compiled it.
        Goldens.assertClose("model. prefix", plain, encode(renamedCopy(dir, "model.", "lm_head.weight"), "model."), 1e-6, 1e-6);
        Goldens.assertClose("llm.model. prefix", plain, encode(renamedCopy(dir, "llm.model.", "llm.lm_head.weight",
                "visual_tokenizer.head.0.weight", "vte.weight"), "llm.model."), 1e-6, 1e-6);
        Goldens.assertParity("prompt_embeds", TextEncoderForwardTest.golden("out.prompt_embeds", 0, 12), plain);
    }

    @Test
    void unknownLayoutIsAOneLineError(@TempDir Path dir) {
        Path folder = renamedCopy(dir, "text_model.");
        try (TensorStore store = TensorStore.openFolder(folder)) {
            OvisException e = assertThrows(OvisException.class, () -> Qwen3Model.detectPrefix(store));
            assertEquals(folder + ": no Qwen3 weights (expected embed_tokens.weight, model.embed_tokens.weight or "
                    + "llm.model.embed_tokens.weight)", e.getMessage());
        }
    }

    @Test
    void wrongShapeNamesTheTensor() {
        try (TensorStore store = TensorStore.openFolder(TINY_TE)) {
            Qwen3Config wrong = new Qwen3Config(64, 96, 2, 4, 2, 16, 1024, 1e-6, 1e6);
            OvisException e = assertThrows(OvisException.class, () -> Qwen3Model.load(store, wrong, null));
            assertEquals("layers.0.mlp.gate_proj.weight: shape [128, 64], expected [96, 64]", e.getMessage());
        }
    }
}
