package org.ovis4j.train.loss;

import org.ovis4j.core.OvisException;

/**
 * The rectified-flow objective of SD3/FLUX-family models (spec 9.1): x_σ = (1 − σ)·x0 + σ·ε per sample,
 * velocity target u = ε − x0, loss = mean over all elements of (v − u)², no weighting. Element-wise
 * arithmetic is float32, in the order PyTorch evaluates these expressions, so x_σ and the target have
 * the reference's bits; the loss is summed in double.
 */
public final class FlowMatching {
    private FlowMatching() {}

    /** x_σ [samples, ...]: sample b's elements are (1 − σ_b)·x0 + σ_b·noise. */
    public static float[] interpolate(float[] x0, float[] noise, float[] sigmas) {
        int per = perSample(x0, noise, sigmas);
        float[] x = new float[x0.length];
        for (int b = 0; b < sigmas.length; b++) {
            float s = sigmas[b], keep = 1f - s;
            for (int i = b * per, e = i + per; i < e; i++) x[i] = keep * x0[i] + s * noise[i];
        }
        return x;
    }

    /** u = noise − x0. */
    public static float[] target(float[] x0, float[] noise) {
        if (x0.length != noise.length) throw new OvisException("flow matching: x0 and noise differ in size");
        float[] u = new float[x0.length];
        for (int i = 0; i < u.length; i++) u[i] = noise[i] - x0[i];
        return u;
    }

    /** mean over all elements of (prediction − target)². */
    public static double loss(float[] prediction, float[] target) {
        check(prediction, target);
        double s = 0;
        for (int i = 0; i < target.length; i++) {
            double e = prediction[i] - target[i];
            s += e * e;
        }
        return s / target.length;
    }

    /** d loss / d prediction = 2·(prediction − target) / numel. */
    public static float[] lossGradient(float[] prediction, float[] target) {
        check(prediction, target);
        float[] g = new float[target.length];
        float k = 2f / target.length;
        for (int i = 0; i < g.length; i++) g[i] = (prediction[i] - target[i]) * k;
        return g;
    }

    private static void check(float[] prediction, float[] target) {
        if (prediction.length != target.length || target.length == 0)
            throw new OvisException("flow matching: prediction has " + prediction.length + " values, target " + target.length);
    }

    private static int perSample(float[] x0, float[] noise, float[] sigmas) {
        if (x0.length != noise.length || sigmas.length == 0 || x0.length % sigmas.length != 0)
            throw new OvisException("flow matching: x0 (" + x0.length + "), noise (" + noise.length + ") and " + sigmas.length
                    + " sigmas do not match");
        return x0.length / sigmas.length;
    }
}
