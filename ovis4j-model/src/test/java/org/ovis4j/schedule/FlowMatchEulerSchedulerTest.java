package org.ovis4j.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.testing.Goldens;

class FlowMatchEulerSchedulerTest {
    private static final Map<String, Tensor> V = Goldens.read("vectors/scheduler.safetensors");
    private static final FlowMatchEulerScheduler S =
            FlowMatchEulerScheduler.fromConfig(Goldens.tiny().resolve("scheduler/scheduler_config.json"));

    @Test
    void sigmasAndTimestepsMatchDiffusers() {
        int[][] cases = {{2, 4}, {4, 6}, {28, 1024}, {50, 4096}};
        for (int[] c : cases) {
            String p = "steps" + c[0] + "_seq" + c[1];
            FlowMatchEulerScheduler.Schedule s = S.schedule(c[0], c[1]);
            assertEquals(V.get(p + ".mu").getDouble(0), s.mu(), 1e-15, p + ".mu");
            // float32 arithmetic in the same order as diffusers: equal to the last bit or within one ulp
            Goldens.assertClose(p + ".sigmas", Goldens.floats(V, p + ".sigmas"), s.sigmas(), 1.2e-7, 0);
            Goldens.assertClose(p + ".timesteps", Goldens.floats(V, p + ".timesteps"), s.timesteps(), 0, 1.2e-7);
        }
    }

    @Test
    void eulerChainMatches() {
        FlowMatchEulerScheduler.Schedule s = S.schedule(4, 6);
        float[] x = Goldens.floats(V, "step.sample");
        for (int i = 0; i < 4; i++) {
            s.step(i, x, Goldens.floats(V, "step." + i + ".model_output"));
            Goldens.assertClose("prev_sample " + i, Goldens.floats(V, "step." + i + ".prev_sample"), x, 1e-6, 1e-6);
        }
    }

    @Test
    void ovisDefaultsAt1024() {
        FlowMatchEulerScheduler.Schedule s = FlowMatchEulerScheduler.defaults().schedule(50, 4096);
        assertEquals(1.15, s.mu(), 1e-12);
        assertEquals(1f, s.sigmas()[0]);
        assertEquals(0.99358f, s.sigmas()[1], 1e-5);
        assertEquals(0.06055f, s.sigmas()[49], 1e-5);
        assertEquals(0f, s.sigmas()[50]);
    }

    @Test
    void unsupportedShiftTypeIsNamed(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("scheduler_config.json");
        Files.writeString(f, "{\"time_shift_type\": \"linear\"}");
        OvisException e = assertThrows(OvisException.class, () -> FlowMatchEulerScheduler.fromConfig(f));
        assertEquals(f + ": time_shift_type \"linear\" is not supported (expected exponential)", e.getMessage());
    }
}
