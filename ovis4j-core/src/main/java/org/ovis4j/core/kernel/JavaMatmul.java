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

    private static final class InPlace implements Prepared, Gemm.PanelSource {
        private final Tensor weight;
        private final int n, k;
        private final ThreadLocal<float[]> row = ThreadLocal.withInitial(() -> new float[Gemm.KC]);

        InPlace(Tensor weight) {
            this.weight = weight;
            this.n = Math.toIntExact(weight.dim(0));
            this.k = Math.toIntExact(weight.dim(1));
        }

        @Override public int in() { return k; }
        @Override public int out() { return n; }

        @Override
        public void multiply(float[] x, int xOff, int ldx, int rows, float[] bias, float[] y, int ldy, int yOff, boolean accumulate) {
            Gemm.gemm(x, xOff, ldx, rows, k, this, n, bias, y, ldy, yOff, accumulate);
        }

        @Override
        public void pack(int n0, int nr, int k0, int kc, float[] panel, int off) {
            float[] buf = row.get();
            final int NR = Gemm.NR;
            for (int j = 0; j < NR; j++) {
                if (j < nr) {
                    Widen.read(weight, (long) (n0 + j) * k + k0, buf, 0, kc);
                    for (int kk = 0; kk < kc; kk++) panel[off + kk * NR + j] = buf[kk];
                } else {
                    for (int kk = 0; kk < kc; kk++) panel[off + kk * NR + j] = 0f;
                }
            }
        }
    }
}
