package org.ovis4j.core.kernel;

import java.lang.foreign.Arena;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.Tensor;

/**
 * A low-rank adapter over a frozen base projection (LoRA): y = base(x) + scale·B(A·x), with
 * A [rank, in] ("lora_A" / "lora_down") and B [out, rank] ("lora_B" / "lora_up") in float32.
 *
 * <p>The base is referenced, not copied: its prepared weights serve every adapter built over it, so
 * one base can carry several adapters (each its own scale) by stacking them, or serve a model with
 * adapters and one without. The adapter's own products run on the Java float32 kernels whatever the
 * base's backend: at rank r they cost r·(in + out) multiply-adds per row against the base's
 * in·out. The scale is applied to the rank-r intermediate A·x before B, which equals PEFT's
 * {@code lora_B(lora_A(x)) * scaling} up to float32 rounding, for fewer multiplies.
 */
public final class LoraProjection implements Projection {
    private final Projection base;
    private final int rank;
    private final float scale;
    /** A [rank, in] and B [out, rank], packed once for the Java GEMM. */
    private final MatmulBackend.Prepared down, up;

    /**
     * @param a     A [rank, in], row-major
     * @param b     B [out, rank], row-major
     * @param scale the factor of the update (alpha / rank times any user scale)
     */
    public LoraProjection(Projection base, float[] a, float[] b, int rank, float scale) {
        if (rank < 1) throw new OvisException("lora: rank must be at least 1, got " + rank);
        if (a.length != (long) rank * base.in())
            throw new OvisException("lora: A has " + a.length + " values, expected rank " + rank + " x in " + base.in());
        if (b.length != (long) base.out() * rank)
            throw new OvisException("lora: B has " + b.length + " values, expected out " + base.out() + " x rank " + rank);
        if (!Float.isFinite(scale)) throw new OvisException("lora: scale " + scale + " is not finite");
        this.base = base;
        this.rank = rank;
        this.scale = scale;
        // Packing copies the values; the temporary tensors' memory goes with the garbage.
        Arena arena = Arena.ofAuto();
        this.down = JavaMatmul.INSTANCE.prepare(Tensor.ofFloats("lora_A", new long[] {rank, base.in()}, a, arena));
        this.up = JavaMatmul.INSTANCE.prepare(Tensor.ofFloats("lora_B", new long[] {base.out(), rank}, b, arena));
    }

    @Override public int in() { return base.in(); }
    @Override public int out() { return base.out(); }
    public Projection base() { return base; }
    public int rank() { return rank; }
    public float scale() { return scale; }

    @Override
    public void forward(float[] x, int xOff, int ldx, int rows, float[] y, int yOff, int ldy) {
        base.forward(x, xOff, ldx, rows, y, yOff, ldy);
        addUpdate(x, xOff, ldx, rows, y, yOff, ldy);
    }

    @Override
    public void forwardAdd(float[] x, int xOff, int ldx, int rows, float[] y, int yOff, int ldy) {
        base.forwardAdd(x, xOff, ldx, rows, y, yOff, ldy);
        addUpdate(x, xOff, ldx, rows, y, yOff, ldy);
    }

    /** y += (scale·(x·Aᵀ))·Bᵀ; the intermediate is rows x rank, small next to y. */
    private void addUpdate(float[] x, int xOff, int ldx, int rows, float[] y, int yOff, int ldy) {
        if (rows == 0) return;
        float[] t = new float[Math.multiplyExact(rows, rank)];
        down.multiply(x, xOff, ldx, rows, null, t, rank, 0, false);
        for (int i = 0; i < t.length; i++) t[i] *= scale;
        up.multiply(t, 0, rank, rows, null, y, ldy, yOff, true);
    }
}
