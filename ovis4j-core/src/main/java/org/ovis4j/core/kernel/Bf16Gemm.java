package org.ovis4j.core.kernel;

/**
 * Mixed-precision matrix products over float arrays, as training under bf16 autocast computes them:
 * both operands rounded to bf16 (nearest, ties to even), products summed in float32, results float32.
 * Operands are row-major float arrays from an offset with a row stride, each optionally transposed,
 * or a {@link Matrix} rounded once by the caller (a weight's bf16 compute copy, made once per optimizer
 * step and read by the forward, Wᵀ, and by dX = dY·W, W). Offered by a native backend
 * ({@link MatmulBackend#bf16Gemm()}): the Vector API has no bf16 dot product, so there is no Java one.
 * Implementations are thread-safe and hold no state of any model.
 */
public interface Bf16Gemm {
    /** The library and instruction set behind the products, for reports. */
    String describe();

    /** A rows x cols bf16 matrix in native memory, owned by the caller (freed when unreachable). */
    Matrix matrix(int rows, int cols);

    /** A bf16 matrix held by the caller; written by {@link #round}. */
    interface Matrix {
        int rows();

        int cols();
    }

    /** dst = bf16(src[off .. off + rows·cols)), row-major. */
    void round(float[] src, int off, Matrix dst);

    /**
     * c[cOff + i·ldc + j] = (accumulate ? c : bias[j] or 0) + Σ_p A[i, p]·B[p, j] for i in [0, m), j in [0, n), p in [0, k),
     * with A[i, p] = bf16(a[aOff + i·lda + p]) (transA: a[aOff + p·lda + i]) and
     * B[p, j] = bf16(b[bOff + p·ldb + j]) (transB: b[bOff + j·ldb + p]); bias may be null.
     */
    void multiply(int m, int n, int k, float[] a, int aOff, int lda, boolean transA, float[] b, int bOff, int ldb,
                  boolean transB, float[] bias, float[] c, int cOff, int ldc, boolean accumulate);

    /** As above with B a rounded matrix: B = b ([k, n]), or with transB, B = bᵀ (b is [n, k]). */
    void multiply(int m, int n, int k, float[] a, int aOff, int lda, boolean transA, Matrix b, boolean transB,
                  float[] bias, float[] c, int cOff, int ldc, boolean accumulate);
}
