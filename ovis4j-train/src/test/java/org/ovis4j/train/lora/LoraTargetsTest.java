package org.ovis4j.train.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.dit.TransformerBatch;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.testing.TrainingGoldens;

/** Fresh adapters on peft-style targets: which modules they reach, peft's initialisation, and a start that is the base model exactly. */
class LoraTargetsTest {
    @Test
    void targetsMatchModulePathsAndSuffixesAsPeftDoes() {
        assertTrue(LoraTargets.matches("to_q", "transformer_blocks.0.attn.to_q"));
        assertTrue(LoraTargets.matches("attn.to_out.0", "transformer_blocks.1.attn.to_out.0"));
        assertTrue(LoraTargets.matches("proj_out", "proj_out"));
        assertTrue(LoraTargets.matches("proj_out", "single_transformer_blocks.0.proj_out"));
        assertFalse(LoraTargets.matches("q", "transformer_blocks.0.attn.to_q"), "a suffix must start at a dot");
        assertFalse(LoraTargets.matches("to_q", "transformer_blocks.0.attn.add_q_proj"));
    }

    @Test
    void adaptersStartAtTheBaseModelWithPeftsInitialisation() {
        var map = org.ovis4j.train.testing.TrainingGoldens.read("flow_matching.safetensors");
        TrainableTransformer base = TrainableTransformer.load(TrainingGoldens.tinyModel());
        TrainableTransformer lora = TrainableTransformer.load(TrainingGoldens.tinyModel(), false,
                new LoraTargets(4, 8, List.of("to_q", "attn.to_out.0"), 5));
        List<String> adapted = new ArrayList<>();
        for (Parameter p : lora.parameters())
            if (p.name().endsWith(".lora_A.weight")) {
                adapted.add(p.name().replace(".lora_A.weight", ""));
                double bound = 1 / Math.sqrt(p.shape()[1]);
                for (float v : p.value()) assertTrue(Math.abs(v) <= bound);
                Parameter b = lora.parameters().get(p.name().replace("lora_A", "lora_B"));
                for (float v : b.value()) assertEquals(0f, v);
                assertTrue(p.trainable() && b.trainable());
            } else if (!p.name().contains(".lora_")) {
                assertFalse(p.trainable(), p.name() + " is frozen under LoRA");
            }
        assertEquals(List.of("transformer_blocks.0.attn.to_q", "transformer_blocks.0.attn.to_out.0", "transformer_blocks.1.attn.to_q",
                "transformer_blocks.1.attn.to_out.0", "single_transformer_blocks.0.attn.to_q", "single_transformer_blocks.1.attn.to_q"), adapted);

        TransformerBatch batch = new TransformerBatch(2, 6, 5, TrainingGoldens.floats(map, "in.x0"), TrainingGoldens.floats(map, "in.prompt_embeds"),
                TrainingGoldens.floats(map, "in.sigma"), TrainingGoldens.floats(map, "in.txt_ids"), TrainingGoldens.floats(map, "in.img_ids"));
        assertArrayEquals(base.forward(batch, false).prediction(), lora.forward(batch, false).prediction(), "B = 0 adds exactly nothing");
    }

    @Test
    void aTargetThatMatchesNothingIsAnError() {
        OvisException e = assertThrows(OvisException.class, () -> TrainableTransformer.load(TrainingGoldens.tinyModel(), false,
                new LoraTargets(4, 4, List.of("to_q", "attn.to_qkv"), 0)));
        assertEquals("LoRA: target module \"attn.to_qkv\" matches no linear module of the transformer", e.getMessage());
    }
}
