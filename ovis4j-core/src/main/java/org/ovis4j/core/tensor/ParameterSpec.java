package org.ovis4j.core.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One named parameter a model component declares: its diffusers/transformers name, its shape in
 * PyTorch's layout and what kind of module it belongs to. A component's ordered list of these
 * (e.g. {@code TransformerConfig.parameters()}) is the one walk over its parameters that writing
 * random checkpoints, parameter counts, quantization, LoRA targeting and training iterate.
 */
public record ParameterSpec(String name, long[] shape, Kind kind) {
    /** What a parameter is for: decides how it is initialised, quantized or adapted. */
    public enum Kind {
        /** A linear module's weight [out, in]. */
        LINEAR_WEIGHT,
        /** A convolution's weight [out, in, kh, kw]. */
        CONV_WEIGHT,
        /** A lookup table [rows, dim]: rows are read, not multiplied. */
        EMBEDDING,
        /** A normalisation's scale (RMSNorm, LayerNorm, GroupNorm weight), near 1. */
        NORM_WEIGHT,
        /** A bias of a linear, convolution or normalisation. */
        BIAS
    }

    public ParameterSpec {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long numel() {
        return Tensor.numel(shape);
    }

    /** The module the parameter belongs to: its name without the last component ({@code .weight}, {@code .bias}). */
    public String module() {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? name : name.substring(0, dot);
    }

    /** Inputs that meet in each output: in for a linear, in·kh·kw for a convolution, 1 otherwise. */
    public long fanIn() {
        return switch (kind) {
            case LINEAR_WEIGHT, CONV_WEIGHT -> Tensor.numel(shape) / shape[0];
            default -> 1;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ParameterSpec p && name.equals(p.name) && Arrays.equals(shape, p.shape) && kind == p.kind;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape) * 7 + kind.hashCode();
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + " " + kind.name().toLowerCase();
    }

    /** Total values of a walk. */
    public static long count(List<ParameterSpec> walk) {
        long n = 0;
        for (ParameterSpec p : walk) n += p.numel();
        return n;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Collects a walk in declaration order, one module at a time. */
    public static final class Builder {
        private final List<ParameterSpec> specs = new ArrayList<>();

        private Builder() {}

        /** {@code module.weight} [out, in] and, if asked, {@code module.bias} [out]. */
        public Builder linear(String module, long out, long in, boolean bias) {
            specs.add(new ParameterSpec(module + ".weight", new long[] {out, in}, Kind.LINEAR_WEIGHT));
            if (bias) specs.add(new ParameterSpec(module + ".bias", new long[] {out}, Kind.BIAS));
            return this;
        }

        /** A square convolution with bias: {@code module.weight} [out, in, k, k], {@code module.bias} [out]. */
        public Builder conv(String module, long out, long in, long k) {
            specs.add(new ParameterSpec(module + ".weight", new long[] {out, in, k, k}, Kind.CONV_WEIGHT));
            specs.add(new ParameterSpec(module + ".bias", new long[] {out}, Kind.BIAS));
            return this;
        }

        /** {@code module.weight} [dim] and, if asked, {@code module.bias} [dim]. */
        public Builder norm(String module, long dim, boolean bias) {
            specs.add(new ParameterSpec(module + ".weight", new long[] {dim}, Kind.NORM_WEIGHT));
            if (bias) specs.add(new ParameterSpec(module + ".bias", new long[] {dim}, Kind.BIAS));
            return this;
        }

        /** {@code module.weight} [rows, dim]. */
        public Builder embedding(String module, long rows, long dim) {
            specs.add(new ParameterSpec(module + ".weight", new long[] {rows, dim}, Kind.EMBEDDING));
            return this;
        }

        public List<ParameterSpec> build() {
            return List.copyOf(specs);
        }
    }
}
