package org.ovis4j.train.vae;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.ovis4j.core.parallel.Parallel;
import org.ovis4j.train.loss.VaeLoss;
import org.ovis4j.vae.VaeConfig;

/**
 * Forward + backward throughput of the trainable VAE (not a unit test: run by hand, e.g.
 * {@code java -Dovis4j.threads=2 ... org.ovis4j.train.vae.VaeTrainingBenchmark [tiny|mid] [steps]}).
 * "tiny" is the goldens' VAE at 32x48, batch 2; "mid" is block_out_channels [32, 64, 64, 64] with 32
 * groups at 128x128, batch 4, with seeded random weights (kernels N(0, 1/fan_in), norm weights
 * 1 + 0.1·N, biases 0.1·N, as the goldens draw them). Prints the median step time and images/s.
 */
public final class VaeTrainingBenchmark {
    public static void main(String[] args) {
        String which = args.length > 0 ? args[0] : "tiny";
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        TrainableVae vae;
        int batch, h, w;
        if (which.equals("tiny")) {
            vae = TrainableVae.load(Path.of("ovis4j-train/src/test/resources/goldens/ovis_image_tiny"));
            batch = 2;
            h = 32;
            w = 48;
        } else {
            VaeConfig cfg = new VaeConfig(3, 3, 16, new int[] {32, 64, 64, 64}, 2, 32, 0.3611, 0.1159, true, false, false);
            Random r = new Random(42);
            vae = TrainableVae.of(cfg, (name, shape) -> {
                int n = 1;
                for (long s : shape) n *= (int) s;
                float[] v = new float[n];
                double std = shape.length == 1 ? 0.1 : 1 / Math.sqrt((double) n / shape[0]);
                for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * std + (shape.length == 1 && name.endsWith(".weight") ? 1 : 0));
                return v;
            });
            batch = 4;
            h = 128;
            w = 128;
        }
        Random r = new Random(1);
        VaeActivations act = vae.newActivations(batch, h, w);
        float[] image = new float[batch * 3 * h * w], eps = new float[batch * 16 * act.latentHeight() * act.latentWidth()];
        for (int i = 0; i < image.length; i++) image[i] = (float) (2 * r.nextDouble() - 1);
        for (int i = 0; i < eps.length; i++) eps[i] = (float) r.nextGaussian();
        VaeLoss loss = new VaeLoss(VaeLoss.GOLDEN_KL_WEIGHT);
        // The machine may be shared: CPU time of the process says how much work a step is, wall time
        // what a user waits.
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        double[] times = new double[steps], cpu = new double[steps];
        for (int s = -2; s < steps; s++) { // two warm-up steps
            vae.parameters().zeroGrad();
            long t0 = System.nanoTime(), c0 = os.getProcessCpuTime();
            VaeLoss.Value v = loss.step(vae, act, image, eps);
            double dt = (System.nanoTime() - t0) / 1e9, dc = (os.getProcessCpuTime() - c0) / 1e9;
            if (s >= 0) {
                times[s] = dt;
                cpu[s] = dc;
            }
            System.out.printf("%s step %d: %.3f s wall, %.3f s cpu, loss %.6f%n", which, s, dt, dc, v.loss());
        }
        Arrays.sort(times);
        Arrays.sort(cpu);
        double median = times[steps / 2];
        System.out.printf("%s %dx%d batch %d, %d threads: median %.3f s per forward+backward (%.3f s cpu), %.2f images/s%n",
                which, w, h, batch, Parallel.threads(), median, cpu[steps / 2], batch / median);
    }
}
