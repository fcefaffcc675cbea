package org.ovis4j.vae;

import org.ovis4j.checkpoint.BflVaeNames;
import org.ovis4j.checkpoint.NameMap;
import org.ovis4j.checkpoint.StoreWeights;
import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.kernel.Projection;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.core.tensor.Tensor;

/**
 * The FLUX.1-style AutoencoderKL of Ovis-Image (spec 5a): {@link #decode} turns unscaled latents
 * [latent, h, w] into an image [out, 8h, 8w] in about [−1, 1]; {@link #encode} turns an image into the
 * latent mean and log-variance. Tensors at the API are CHW as in PyTorch; inside everything runs
 * channels-last. Scaling and shifting of latents ({@code (z − shift)·scale}) are the caller's business.
 */
public final class AutoencoderKL {
    private final VaeConfig cfg;
    private final Encoder encoder;
    private final Decoder decoder;
    private final Projection quantConv, postQuantConv;

    /** Both halves from weights addressed by diffusers names, on the portable Java float32 kernels. */
    public AutoencoderKL(VaeConfig cfg, Weights w) {
        this(cfg, w, ComputeContext.JAVA);
    }

    /** Both halves from weights addressed by diffusers names, on the context's kernels. */
    public AutoencoderKL(VaeConfig cfg, Weights w, ComputeContext context) {
        this.cfg = cfg;
        this.encoder = new Encoder(cfg, w, context);
        this.decoder = new Decoder(cfg, w, context);
        int l = cfg.latentChannels();
        this.quantConv = cfg.useQuantConv() ? conv1x1(w, context, "quant_conv", 2 * l) : null;
        this.postQuantConv = cfg.usePostQuantConv() ? conv1x1(w, context, "post_quant_conv", l) : null;
    }

    /**
     * Weights from a store in either layout: BFL {@code ae.safetensors} names are detected
     * ({@link BflVaeNames#matches}) and mapped, otherwise diffusers names are expected.
     * {@code computeType} null keeps the stored dtype.
     */
    public static AutoencoderKL of(VaeConfig cfg, TensorStore store, DType computeType) {
        return of(cfg, store, computeType, ComputeContext.JAVA);
    }

    /** As {@link #of(VaeConfig, TensorStore, DType)} on the context's kernels. */
    public static AutoencoderKL of(VaeConfig cfg, TensorStore store, DType computeType, ComputeContext context) {
        return new AutoencoderKL(cfg, weights(cfg, store, computeType), context);
    }

    /**
     * A VAE store's tensors under diffusers names, whichever layout it is in: BFL {@code ae.safetensors}
     * names are detected ({@link BflVaeNames#matches}) and mapped. {@code computeType} null keeps the
     * stored dtype.
     */
    public static Weights weights(VaeConfig cfg, TensorStore store, DType computeType) {
        NameMap names = BflVaeNames.matches(store) ? BflVaeNames.map(cfg) : null;
        return new StoreWeights(store, "", names, computeType);
    }

    private static Projection conv1x1(Weights w, ComputeContext context, String name, int c) {
        Tensor t = w.get(name + ".weight").expectShape(c, c, 1, 1);
        return context.projection(t.reshape(c, c), w.get(name + ".bias").expectShape(c));
    }

    public VaeConfig config() { return cfg; }
    public Encoder encoder() { return encoder; }
    public Decoder decoder() { return decoder; }

    /** latents CHW [latent_channels, h, w] → image CHW [out_channels, 8h, 8w], decoded whole. */
    public float[] decode(float[] latentsChw, int h, int w) {
        return decodeHwc(latentsChw, h, w, Probe.NONE).toChw();
    }

    /** As {@link #decode(float[], int, int)}, in tiles where {@code tiling} applies to h x w. */
    public float[] decode(float[] latentsChw, int h, int w, VaeTiling tiling) {
        if (!tiling.appliesTo(h, w)) return decode(latentsChw, h, w);
        int l = cfg.latentChannels();
        if (latentsChw.length != (long) l * h * w)
            throw new OvisException("expected " + l + " x " + h + " x " + w + " latents, got " + latentsChw.length + " values");
        Workspace ws = new Workspace(); // the tiles are mostly of one size: each reuses the last one's arrays
        return TiledDecode.run(h, w, cfg.downscale(), cfg.outChannels(), tiling, (y0, x0, th, tw) -> {
            float[] tile = new float[l * th * tw];
            for (int c = 0; c < l; c++)
                for (int y = 0; y < th; y++)
                    System.arraycopy(latentsChw, (c * h + y0 + y) * w + x0, tile, (c * th + y) * tw, tw);
            return decodeHwc(tile, th, tw, Probe.NONE, ws);
        }).toChw();
    }

    /**
     * As {@link #decode(float[], int, int)} but returns the image channels-last [8h, 8w, out] (as PNG
     * writers want it), showing intermediates to {@code probe}.
     */
    public FeatureMap decodeHwc(float[] latentsChw, int h, int w, Probe probe) {
        return decodeHwc(latentsChw, h, w, probe, new Workspace());
    }

    private FeatureMap decodeHwc(float[] latentsChw, int h, int w, Probe probe, Workspace ws) {
        FeatureMap z = FeatureMap.fromChw(latentsChw, cfg.latentChannels(), h, w);
        if (postQuantConv != null) z = new FeatureMap(postQuantConv.apply(z.data(), z.pixels()), h, w, z.c());
        return decoder.forward(z, probe, ws);
    }

    /** image CHW [in_channels, H, W] (values in [−1, 1]) → the latent distribution, CHW [latent, H/8, W/8]. */
    public LatentDistribution encode(float[] imageChw, int height, int width) {
        return encode(imageChw, height, width, Probe.NONE);
    }

    public LatentDistribution encode(float[] imageChw, int height, int width, Probe probe) {
        FeatureMap x = encoder.forward(FeatureMap.fromChw(imageChw, cfg.inChannels(), height, width), probe);
        int l = cfg.latentChannels(), n = x.pixels();
        if (x.c() != 2 * l) throw new OvisException("vae encoder: " + x.c() + " output channels, expected " + 2 * l);
        float[] moments = quantConv != null ? quantConv.apply(x.data(), n) : x.data();
        float[] mean = new float[l * n], logvar = new float[l * n];
        for (int p = 0; p < n; p++) {
            int o = p * 2 * l;
            for (int c = 0; c < l; c++) {
                mean[c * n + p] = moments[o + c];
                logvar[c * n + p] = Math.clamp(moments[o + l + c], LatentDistribution.LOGVAR_MIN, LatentDistribution.LOGVAR_MAX);
            }
        }
        return new LatentDistribution(mean, logvar, l, x.h(), x.w());
    }
}
