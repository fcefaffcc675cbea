package org.ovis4j.core.kernel;

import org.ovis4j.core.tensor.Tensor;

/** The portable backend: Vector API GEMM over weights packed once into panels ({@link PackedWeights}). */
public final class JavaMatmul implements MatmulBackend {
    public static final JavaMatmul INSTANCE = new JavaMatmul();

    private JavaMatmul() {}

    @Override
    public String name() {
        return "java";
    }

    @Override
    public boolean supports(Tensor weight) {
        return weight.isWeight();
    }

    @Override
    public Prepared prepare(Tensor weight) {
        if (weight.blockScales() != null) return PackedQ8.pack(weight);
        PackedWeights packed = PackedWeights.pack(weight);
        return new Prepared() {
            @Override public int in() { return packed.k; }
            @Override public int out() { return packed.n; }

            @Override
            public void multiply(float[] x, int xOff, int ldx, int rows, float[] bias, float[] y, int ldy, int yOff, boolean accumulate) {
                Gemm.gemm(x, xOff, ldx, rows, packed, bias, y, ldy, yOff, accumulate);
            }
        };
    }
}
