package org.ovis4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import org.ovis4j.core.safetensors.SafetensorsFile;
import org.ovis4j.core.tensor.Tensor;

/**
 * The tiny reference checkpoint and its PyTorch outputs, copied from shared/goldens into the test
 * resources, and the tolerance rule used against them.
 */
public final class Goldens {
    private Goldens() {}

    /** The root of the tiny checkpoint (diffusers layout, plus original/, bf16/, cases/, vectors/). */
    public static Path tiny() {
        try {
            return Path.of(Goldens.class.getResource("/goldens/ovis_image_tiny/model_index.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Tensors of a golden safetensors file, mapped for the life of the JVM. */
    public static Map<String, Tensor> read(String relative) {
        return SafetensorsFile.read(tiny().resolve(relative), Arena.ofAuto()).tensors();
    }

    public static float[] floats(Map<String, Tensor> file, String name) {
        Tensor t = file.get(name);
        if (t == null) throw new IllegalArgumentException("golden tensor " + name + " not found");
        return t.toFloats();
    }

    /**
     * Asserts |actual − expected| ≤ atol + rtol·|expected| element-wise and reports the worst element.
     * Returns the largest absolute difference.
     */
    public static double assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
        assertEquals(expected.length, actual.length, what + ": length");
        double worst = 0, worstExcess = -1;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs((double) actual[i] - expected[i]);
            if (Double.isNaN(actual[i])) fail(what + ": NaN at " + i);
            worst = Math.max(worst, diff);
            double excess = diff - (atol + rtol * Math.abs(expected[i]));
            if (excess > worstExcess) {
                worstExcess = excess;
                at = i;
            }
        }
        if (worstExcess > 0)
            fail(String.format("%s: element %d is %.7g, expected %.7g (max abs diff %.3g; tolerance %.1g + %.1g·|x|)",
                    what, at, actual[at], expected[at], worst, atol, rtol));
        return worst;
    }

    /**
     * The float32 parity tolerance: the references are float32 and accurate to a few 1e-6 (goldens
     * README section 8, checked against float64); summation order differs between our kernels and
     * PyTorch's, which costs a few more ulps per reduction through the network.
     */
    public static double assertParity(String what, float[] expected, float[] actual) {
        return assertClose(what, expected, actual, 1e-4, 1e-4);
    }
}
