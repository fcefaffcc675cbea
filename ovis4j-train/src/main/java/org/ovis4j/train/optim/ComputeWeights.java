package org.ovis4j.train.optim;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.ovis4j.core.kernel.Bf16Gemm;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.train.param.Parameter;

/**
 * The weights a model's linear products read, as distinct from the float32 masters the optimizer
 * updates ({@link Parameter#value()}). In {@link ComputePrecision#FP32} they are the masters themselves
 * (no copy, and products in float32). In {@link ComputePrecision#BF16} each linear weight of the model
 * gets a bf16 copy in native memory ({@link Bf16Gemm.Matrix}, round to nearest even as torch's
 * {@code .to(torch.bfloat16)}), made when the model is built and again by {@link #refresh()}, and the
 * layer multiplies through {@link Bf16Gemm}: mixed-precision training with float32 masters, so updates
 * below bf16's resolution still accumulate in the masters. Norm weights, biases and anything not a linear
 * weight are read as float32.
 *
 * <p>Contract: call {@link #refresh()} after every optimizer step (once per step, however many forwards
 * the step accumulates) and whenever the masters are changed otherwise (values set after the model was
 * built, a checkpoint restored). A stale copy is never detected: its layer would compute with the old
 * weights.
 */
public final class ComputeWeights {
    /** Products in float32 over the masters: nothing to hold. */
    public static final ComputeWeights FP32 = new ComputeWeights(null);

    private final Bf16Gemm gemm;
    private final Map<Parameter, Bf16Gemm.Matrix> copies = new IdentityHashMap<>();
    private final List<Parameter> order = new ArrayList<>();

    private ComputeWeights(Bf16Gemm gemm) {
        this.gemm = gemm;
    }

    /** Empty bf16 compute weights over {@code gemm}: layers add theirs with {@link #register} as the model is built. */
    public static ComputeWeights bf16(Bf16Gemm gemm) {
        if (gemm == null) throw new IllegalArgumentException("bf16 compute weights need a bf16 matmul");
        return new ComputeWeights(gemm);
    }

    /**
     * The compute weights for {@code precision}: in bf16, over the bf16 matmul of oneDNN when it runs here
     * (a CPU with AVX512-BF16 or AMX and the ovis4j-onednn module on the class path); where it does not,
     * float32 products, said once to {@code notices} with the reason (training then computes what fp32 does).
     */
    public static ComputeWeights of(ComputePrecision precision, Consumer<String> notices) {
        if (precision == ComputePrecision.FP32) return FP32;
        String[] reason = {null};
        ComputeContext auto = ComputeContext.create("auto", false, msg -> reason[0] = msg);
        return of(precision, auto, notices, reason[0]);
    }

    /**
     * As {@link #of(ComputePrecision, Consumer)} with the matmul taken from {@code context}'s backend
     * ({@code why}: what the context said when it fell back to java, or null).
     */
    public static ComputeWeights of(ComputePrecision precision, ComputeContext context, Consumer<String> notices, String why) {
        if (precision == ComputePrecision.FP32) return FP32;
        Bf16Gemm g = context.backend().bf16Gemm();
        if (g != null) return bf16(g);
        String reason = why != null ? why
                : context.backend().name().equals("java") ? "the ovis4j-onednn module is not on the class path"
                : "the " + context.backend().name() + " backend has no bf16 matmul";
        notices.accept("compute_precision bf16 needs oneDNN's bf16 matmul (AVX512-BF16 or AMX), unavailable here (" + reason
                + "); computing in float32");
        return FP32;
    }

    /** What the products run in: BF16 only when a bf16 matmul is behind them. */
    public ComputePrecision precision() {
        return gemm == null ? ComputePrecision.FP32 : ComputePrecision.BF16;
    }

    /** The bf16 matmul (null in FP32). */
    public Bf16Gemm gemm() {
        return gemm;
    }

    /** "fp32 (java)" or "bf16 (oneDNN ...)", for reports. */
    public String describe() {
        return gemm == null ? "fp32 (java)" : "bf16 (" + gemm.describe() + ")";
    }

    /**
     * The bf16 copy of the linear weight {@code w} [out, in], rounded now from its current values; null in
     * FP32 and for a weight read in place from the checkpoint ({@link Parameter#stored}: it keeps the
     * float32 path over its stored values). Registering a weight twice returns the same copy.
     */
    public synchronized Bf16Gemm.Matrix register(Parameter w) {
        if (gemm == null || w.stored() != null) return null;
        long[] shape = w.shape();
        if (shape.length != 2) throw new IllegalArgumentException(w.name() + ": a linear weight is 2-D, got " + shape.length + "-D");
        Bf16Gemm.Matrix m = copies.get(w);
        if (m != null) return m;
        m = gemm.matrix(Math.toIntExact(shape[0]), Math.toIntExact(shape[1]));
        gemm.round(w.value(), 0, m);
        copies.put(w, m);
        order.add(w);
        return m;
    }

    /** The registered weights, in registration order. */
    public synchronized List<Parameter> registered() {
        return List.copyOf(order);
    }

    /** Re-rounds every registered weight from its master (frozen float copies too: cheap, and never stale); a no-op in FP32. */
    public synchronized void refresh() {
        for (Parameter p : order) gemm.round(p.value(), 0, copies.get(p));
    }
}
