package org.ovis4j.train.optim;

import java.util.Locale;
import org.ovis4j.core.OvisException;

/**
 * The arithmetic of a training pass's linear products (config key {@code compute_precision}).
 * {@link #FP32}: float32 throughout, the parity mode every golden is checked in. {@link #BF16}: the
 * products of every linear layer (forward, dX and dW) take bf16-rounded operands with float32 sums and
 * results, as PyTorch's {@code torch.autocast("cpu", dtype=torch.bfloat16)} computes its matmuls; the
 * masters, norms, attention, softmax, losses and the optimizer stay float32 ({@link ComputeWeights}).
 */
public enum ComputePrecision {
    FP32,
    BF16;

    /** "fp32" or "bf16" (case-insensitive). */
    public static ComputePrecision parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "fp32" -> FP32;
            case "bf16" -> BF16;
            default -> throw new OvisException("compute precision must be fp32 or bf16, got \"" + s + "\"");
        };
    }

    /** The config spelling: "fp32" or "bf16". */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
