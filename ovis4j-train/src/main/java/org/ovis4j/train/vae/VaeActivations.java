package org.ovis4j.train.vae;

/**
 * One training step's VAE state, owned by the caller and reused step after step for the same batch
 * and image size: what the encoder and decoder forwards keep for their backwards, the posterior
 * (mean, clamped log-variance, std, ε, z), the gradient seeds a loss writes and the gradients the
 * backward produces, and the workspace of the passes' temporaries.
 *
 * <p>The arrays returned here are the live channels-last buffers ([B, H, W, C] for images, [B, h, w, L]
 * for latents), for losses to read and write in place; the {@code …Nchw()} methods return PyTorch-
 * layout copies.
 */
public final class VaeActivations {
    private final TrainableVae model;
    final MapShape imageShape, latentShape;
    final Stage.State[] encoder, decoder;
    final float[] image, eps, mean, logvar, std, z;
    final float[] reconGrad, meanGrad, logvarGrad, zGrad, momentsGrad, imageGrad;
    final VaeWorkspace workspace = new VaeWorkspace();

    VaeActivations(TrainableVae model, MapShape imageShape, MapShape latentShape, Stage.State[] encoder, Stage.State[] decoder) {
        this.model = model;
        this.imageShape = imageShape;
        this.latentShape = latentShape;
        this.encoder = encoder;
        this.decoder = decoder;
        int ni = imageShape.size(), nl = latentShape.size();
        image = new float[ni];
        reconGrad = new float[ni];
        imageGrad = new float[ni];
        eps = new float[nl];
        mean = new float[nl];
        logvar = new float[nl];
        std = new float[nl];
        z = new float[nl];
        meanGrad = new float[nl];
        logvarGrad = new float[nl];
        zGrad = new float[nl];
        momentsGrad = new float[2 * nl];
        if (decoder[decoder.length - 1].out.size() != ni)
            throw new IllegalStateException("vae: decoder output " + decoder[decoder.length - 1].out + " does not match " + imageShape);
    }

    void checkModel(TrainableVae m) {
        if (m != model) throw new IllegalArgumentException("vae: activations belong to another model");
    }

    public int batch() { return imageShape.batch(); }
    public int height() { return imageShape.h(); }
    public int width() { return imageShape.w(); }
    public int latentChannels() { return latentShape.c(); }
    public int latentHeight() { return latentShape.h(); }
    public int latentWidth() { return latentShape.w(); }

    /** The forward's input image, channels-last. */
    public float[] image() { return image; }

    /** The decoder's output, channels-last like {@link #image()}. */
    public float[] recon() { return decoder[decoder.length - 1].y; }

    /** The encoder's output [B, h, w, 2L] (mean channels, then the unclamped log-variance). */
    float[] moments() { return encoder[encoder.length - 1].y; }

    public float[] posteriorMean() { return mean; }
    public float[] posteriorLogvar() { return logvar; }
    public float[] posteriorStd() { return std; }
    public float[] z() { return z; }

    /** Gradient seed at the reconstruction (written by a loss before the backward). */
    public float[] reconGrad() { return reconGrad; }

    /** Gradient seed at the posterior mean; after the backward, the total gradient there. */
    public float[] meanGrad() { return meanGrad; }

    /** Gradient seed at the clamped log-variance; after the backward, the total gradient there. */
    public float[] logvarGrad() { return logvarGrad; }

    /** The image's gradient: the backward adds the encoder's path to what is there. */
    public float[] imageGrad() { return imageGrad; }

    private float[] imageNchw(float[] x) {
        return ChannelsLast.toNchw(x, imageShape.batch(), imageShape.h(), imageShape.w(), imageShape.c());
    }

    private float[] latentNchw(float[] x) {
        return ChannelsLast.toNchw(x, latentShape.batch(), latentShape.h(), latentShape.w(), latentShape.c());
    }

    public float[] reconNchw() { return imageNchw(recon()); }
    public float[] imageGradNchw() { return imageNchw(imageGrad); }
    public float[] posteriorMeanNchw() { return latentNchw(mean); }
    public float[] posteriorLogvarNchw() { return latentNchw(logvar); }
    public float[] posteriorStdNchw() { return latentNchw(std); }
    public float[] zNchw() { return latentNchw(z); }
    public float[] meanGradNchw() { return latentNchw(meanGrad); }
    public float[] logvarGradNchw() { return latentNchw(logvarGrad); }
}
