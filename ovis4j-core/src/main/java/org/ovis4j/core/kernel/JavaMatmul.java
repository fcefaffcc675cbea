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

    /**
     * The weights used where they are (memory-mapped), each KC x NR block widened (or, for Q8_0,
     * dequantized) into a panel when
     * the GEMM reaches it: no copy at all, for layers that run on few rows (the text encoder), where
     * the repacked copy would cost more memory than the per-call packing costs time.
     */
    public Prepared inPlace(Tensor weight) {
        return new InPlace(weight);
    }

    private static final class InPlace implements Prepared {
        private final Gemm.PanelSource panels;
        private final int n, k;

        InPlace(Tensor weight) {
            this.panels = TensorPanels.transposed(weight);
            this.n = Math.toIntExact(weight.dim(0));
            this.k = Math.toIntExact(weight.dim(1));
        }

        @Override public int in() { return k; }
        @Override public int out() { return n; }

        @Override
        public void multiply(float[] x, int xOff, int ldx, int rows, float[] bias, float[] y, int ldy, int yOff, boolean accumulate) {
            Gemm.gemm(x, xOff, ldx, rows, k, panels, n, bias, y, ldy, yOff, accumulate);
        }
    }
}
