package org.ovis4j.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.pipeline.OvisImage;
import org.ovis4j.pipeline.Precision;
import org.ovis4j.testing.Goldens;

/** LoRAs given to the pipeline are checked against the transformer config, with errors naming the LoRA and the module. */
class LoraTest {
    @Test
    void inMemoryAdaptersThatDoNotFitAreRefusedAtLoad() {
        LoraAdapter wide = new LoraAdapter("transformer_blocks.0.attn.to_q", 2, new float[2 * 64], new float[64 * 2], 1f);
        OvisException e = assertThrows(OvisException.class,
                () -> OvisImage.load(Goldens.tiny(), Precision.FP32, ComputeContext.JAVA, List.of(Lora.of("mine", List.of(wide)))));
        assertEquals("mine: lora transformer_blocks.0.attn.to_q: adapter is [64, 64] (rank 2), the module's weight is [32, 32]"
                + " (is the LoRA for another model?)", e.getMessage());

        LoraAdapter norm = new LoraAdapter("transformer_blocks.0.attn.norm_q", 1, new float[16], new float[16], 1f);
        e = assertThrows(OvisException.class,
                () -> OvisImage.load(Goldens.tiny(), Precision.FP32, ComputeContext.JAVA, List.of(Lora.of("norms", List.of(norm)))));
        assertEquals("norms: lora: the transformer has no linear module \"transformer_blocks.0.attn.norm_q\" (is the LoRA for another model?)",
                e.getMessage());
    }

    @Test
    void weightMustBeFinite() {
        OvisException e = assertThrows(OvisException.class, () -> Lora.read(LoraForwardGoldenTest.FILE, Float.NaN,
                LoraForwardGoldenTest.config("transformer")));
        assertEquals(LoraForwardGoldenTest.FILE + ": LoRA weight NaN is not a finite number", e.getMessage());
    }
}
