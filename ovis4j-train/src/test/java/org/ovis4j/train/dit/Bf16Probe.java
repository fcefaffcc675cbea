package org.ovis4j.train.dit;

import org.ovis4j.train.optim.ComputePrecision;
import org.ovis4j.train.optim.ComputeWeights;

/** Run in a child JVM by {@link Bf16ComputeTest}: asks for bf16 compute and prints the notices and what it got. */
public final class Bf16Probe {
    public static void main(String[] args) {
        ComputeWeights cw = ComputeWeights.of(ComputePrecision.BF16, s -> System.out.println("probe: notice " + s));
        System.out.println("probe: " + cw.describe());
    }
}
