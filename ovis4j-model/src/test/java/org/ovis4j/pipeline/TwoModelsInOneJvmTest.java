package org.ovis4j.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.Attention;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.testing.Goldens;

/**
 * An fp32 model (exact float32, java backend) and a bf16 one (auto: oneDNN where the CPU has
 * AVX512-BF16 or AMX, with its bf16 attention) loaded side by side and run in turns: the fp32 one
 * still matches the reference pipeline's goldens, and the bf16 one gives exactly the image it gives
 * alone. (Before compute contexts, loading the fp32 model switched the process to the java backend,
 * and every layer the bf16 model prepared afterwards ran there.)
 */
class TwoModelsInOneJvmTest {
    private static final String CASE = "en_w32_h32";

    @Test
    void fp32AndBf16ModelsRunInTurnsWithoutChangingEachOther() throws IOException {
        ComputeContext bf16Context = ComputeContext.create("auto", false);
        System.out.println("two models: bf16 on " + bf16Context + ", fp32 on " + ComputeContext.JAVA);
        float[] alone;
        try (OvisImage m = OvisImage.load(Goldens.tiny(), Precision.BF16, bf16Context)) {
            alone = m.generate(OvisImagePipelineTest.request(CASE)).rgb();
        }
        try (OvisImage bf16 = OvisImage.load(Goldens.tiny(), Precision.BF16, bf16Context);
             OvisImage fp32 = OvisImage.load(Goldens.tiny(), Precision.FP32)) {
            assertSame(Attention.JAVA, fp32.context().attention());
            assertSame(bf16Context, bf16.context());
            for (int round = 0; round < 2; round++) {
                List<GeneratedImage> out = new ArrayList<>();
                Map<String, float[]> seen = OvisImagePipelineTest.run(fp32, OvisImagePipelineTest.request(CASE), null, out);
                OvisImagePipelineTest.checkCase(CASE, seen, out.get(0), true);
                assertArrayEquals(alone, bf16.generate(OvisImagePipelineTest.request(CASE)).rgb(), "bf16 image, round " + round);
            }
        }
    }

    @Test
    void fp32NeedsAnExactFloat32Context() {
        ComputeContext rounding = ComputeContext.create("auto", false);
        OvisException e = assertThrows(OvisException.class, () -> OvisImage.load(Goldens.tiny(), Precision.FP32, rounding));
        assertEquals("fp32 precision needs an exact float32 compute context (java backend), not " + rounding, e.getMessage());
    }
}
