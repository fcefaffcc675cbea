package org.ovis4j.train.ops;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.Random;
import org.ovis4j.core.parallel.Parallel;

/**
 * Times {@link AttentionOp} forward and backward (not a test: no thresholds). Counts 4·len²·headDim·heads
 * flops for the forward (Q·Kᵀ and P·V) and 10·len²·headDim·heads for the backward (Q·Kᵀ, dO·Vᵀ, Pᵀ·dO,
 * dSᵀ·Q, dS·K), per sample; exp and the elementwise work are not counted.
 *
 * <p>{@code java --add-modules jdk.incubator.vector -Dovis4j.threads=2 -cp ... org.ovis4j.train.ops.AttentionOpBenchmark
 * [len heads headDim samples runs]}, default 1280 24 128 1 5; prints the fastest of the runs after two warm-ups (the machine is shared: the minimum is the least disturbed).
 */
public final class AttentionOpBenchmark {
    public static void main(String[] args) {
        int len = arg(args, 0, 1280), heads = arg(args, 1, 24), d = arg(args, 2, 128), samples = arg(args, 3, 1), runs = arg(args, 4, 5);
        int n = samples * len * heads * d;
        Random r = new Random(1);
        float[] q = AttentionOpTest.random(r, n, 1), k = AttentionOpTest.random(r, n, 1), v = AttentionOpTest.random(r, n, 1),
                g = AttentionOpTest.random(r, n, 1);
        float[] out = new float[n], lse = new float[samples * heads * len], dq = new float[n], dk = new float[n], dv = new float[n];
        double unit = (double) samples * len * len * d * heads;
        double[] fwd = new double[runs], bwd = new double[runs], fwdCpu = new double[runs], bwdCpu = new double[runs];
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (int i = -2; i < runs; i++) {
            long c0 = mx.getCurrentThreadCpuTime(), t0 = System.nanoTime();
            AttentionOp.forward(q, k, v, samples, len, heads, d, out, lse);
            long c1 = mx.getCurrentThreadCpuTime(), t1 = System.nanoTime();
            AttentionOp.backward(q, k, v, out, lse, g, samples, len, heads, d, dq, dk, dv);
            long c2 = mx.getCurrentThreadCpuTime(), t2 = System.nanoTime();
            if (i >= 0) {
                fwd[i] = (t1 - t0) / 1e9;
                bwd[i] = (t2 - t1) / 1e9;
                fwdCpu[i] = (c1 - c0) / 1e9;
                bwdCpu[i] = (c2 - c1) / 1e9;
            }
        }
        double f = min(fwd), b = min(bwd);
        System.out.printf("attention %d x %d heads x %d, len %d, %d threads: forward %.2f ms (%.1f GFLOP/s), backward %.2f ms"
                        + " (%.1f GFLOP/s), forward+backward %.2f ms (%.1f GFLOP/s)%n", samples, heads, d, len, Parallel.threads(),
                f * 1e3, 4 * unit / f / 1e9, b * 1e3, 10 * unit / b / 1e9, (f + b) * 1e3, 14 * unit / (f + b) / 1e9);
        // On one thread all the work is this thread's, and its CPU time is what a loaded machine does not inflate.
        if (Parallel.threads() == 1)
            System.out.printf("  this thread's CPU time: forward %.2f ms (%.1f GFLOP/s), backward %.2f ms (%.1f GFLOP/s)%n",
                    min(fwdCpu) * 1e3, 4 * unit / min(fwdCpu) / 1e9, min(bwdCpu) * 1e3, 10 * unit / min(bwdCpu) / 1e9);
    }

    private static int arg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }

    private static double min(double[] x) {
        return Arrays.stream(x).min().orElseThrow();
    }
}
