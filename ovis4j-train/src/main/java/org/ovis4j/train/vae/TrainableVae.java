package org.ovis4j.train.vae;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.checkpoint.Weights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.train.ops.Conv2dOp;
import org.ovis4j.train.ops.DiagonalGaussianOp;
import org.ovis4j.train.param.Parameters;
import org.ovis4j.vae.AutoencoderKL;
import org.ovis4j.vae.VaeConfig;

/**
 * The FLUX.1-style AutoencoderKL (spec 5a) as a trainable model: float32 master {@link Parameters}
 * under diffusers names, an encoder and a decoder whose forward passes keep what their backward
 * passes read in a caller-owned {@link VaeActivations}, and the posterior sample between them.
 *
 * <pre>
 *   moments = encoder(x);  mean, logvar = split(moments), logvar clamped to [−30, 20]
 *   z = mean + exp(logvar/2)·ε;  recon = decoder(z)        (no scaling or shift factor)
 * </pre>
 *
 * Everything runs channels-last ([B, H, W, C]); the API takes and gives PyTorch's [B, C, H, W]. The
 * model holds only parameters; nothing of a step is kept here, so one model can serve several
 * activations objects (of different batch or image sizes) in turn.
 */
public final class TrainableVae {
    /** Where parameter values come from: a checkpoint, or an initialiser. Returns values for the diffusers name and shape. */
    @FunctionalInterface
    public interface Source {
        float[] values(String name, long[] shape);
    }

    private final VaeConfig cfg;
    private final Parameters params = new Parameters();
    private final StageChain encoder, decoder;

    private TrainableVae(VaeConfig cfg, Source src) {
        if (cfg.useQuantConv() || cfg.usePostQuantConv())
            throw new OvisException("vae: quant_conv / post_quant_conv are not supported for training (FLUX.1-style VAEs have none)");
        this.cfg = cfg;
        int groups = cfg.normNumGroups(), levels = cfg.levels(), layers = cfg.layersPerBlock(), top = cfg.channels(levels - 1);
        // Parameters are declared in diffusers' registration order (its named_parameters()); the stage
        // lists are in execution order, which differs for the mid blocks (attentions are registered
        // before resnets) and the decoder (up_blocks are registered before the mid block).
        List<Stage> enc = new ArrayList<>();
        enc.add(new ConvStage(new ConvLayer(src, params, "encoder.conv_in", Conv2dOp.same(cfg.inChannels(), cfg.channels(0), 3), false)));
        int cin = cfg.channels(0);
        for (int b = 0; b < levels; b++) {
            int cout = cfg.channels(b);
            String p = "encoder.down_blocks." + b + ".";
            for (int j = 0; j < layers; j++)
                enc.add(new ResnetStage(src, params, p + "resnets." + j + ".", j == 0 ? cin : cout, cout, groups));
            if (b < levels - 1)
                enc.add(new ConvStage(new ConvLayer(src, params, p + "downsamplers.0.conv", Conv2dOp.downsample(cout, cout), false)));
            cin = cout;
        }
        enc.addAll(midBlock(src, "encoder.mid_block.", top, groups));
        enc.add(new OutputStage(new NormLayer(src, params, "encoder.conv_norm_out", top, groups, true),
                new ConvLayer(src, params, "encoder.conv_out", Conv2dOp.same(top, 2 * cfg.latentChannels(), 3), false)));
        encoder = new StageChain(enc);

        Stage convIn = new ConvStage(new ConvLayer(src, params, "decoder.conv_in", Conv2dOp.same(cfg.latentChannels(), top, 3), false));
        List<Stage> up = new ArrayList<>();
        cin = top;
        for (int k = 0; k < levels; k++) {
            int cout = cfg.channels(levels - 1 - k);
            String p = "decoder.up_blocks." + k + ".";
            for (int j = 0; j <= layers; j++)
                up.add(new ResnetStage(src, params, p + "resnets." + j + ".", j == 0 ? cin : cout, cout, groups));
            if (k < levels - 1)
                up.add(new UpsampleStage(new ConvLayer(src, params, p + "upsamplers.0.conv", Conv2dOp.same(cout, cout, 3), false)));
            cin = cout;
        }
        List<Stage> dec = new ArrayList<>();
        dec.add(convIn);
        dec.addAll(midBlock(src, "decoder.mid_block.", top, groups));
        dec.addAll(up);
        dec.add(new OutputStage(new NormLayer(src, params, "decoder.conv_norm_out", cfg.channels(0), groups, true),
                new ConvLayer(src, params, "decoder.conv_out", Conv2dOp.same(cfg.channels(0), cfg.outChannels(), 3), false)));
        decoder = new StageChain(dec);
    }

    /** UNetMidBlock2D: resnet, attention (unless disabled), resnet; returned in execution order. */
    private List<Stage> midBlock(Source src, String prefix, int c, int groups) {
        Stage attention = cfg.midBlockAddAttention() ? new AttentionStage(src, params, prefix + "attentions.0.", c, groups) : null;
        Stage first = new ResnetStage(src, params, prefix + "resnets.0.", c, c, groups);
        Stage second = new ResnetStage(src, params, prefix + "resnets.1.", c, c, groups);
        return attention != null ? List.of(first, attention, second) : List.of(first, second);
    }

    /** A model with values from {@code source} (e.g. a seeded initialiser). */
    public static TrainableVae of(VaeConfig cfg, Source source) {
        return new TrainableVae(cfg, source);
    }

    /**
     * A model initialised from checkpoint weights addressed by diffusers names (any layout, through the
     * model module's name maps). Values are widened to float32 copies; the weights can be closed after.
     * Attention projections stored as 1×1 convolutions [C, C, 1, 1] (BFL) are read as the Linear [C, C].
     */
    public static TrainableVae of(VaeConfig cfg, Weights weights) {
        return new TrainableVae(cfg, (name, shape) -> {
            Tensor t = weights.get(name);
            long[] s = t.shape();
            boolean conv1x1 = shape.length == 2 && Arrays.equals(s, new long[] {shape[0], shape[1], 1, 1});
            if (!Arrays.equals(s, shape) && !conv1x1)
                throw new OvisException(weights.origin() + ": " + name + " has shape " + Arrays.toString(s)
                        + ", expected " + Arrays.toString(shape));
            return t.toFloats();
        });
    }

    /** The VAE of a checkpoint folder in either layout (diffusers {@code vae/}, or the original {@code ae.safetensors}). */
    public static TrainableVae load(Path checkpoint) {
        CheckpointFolder folder = CheckpointFolder.detect(checkpoint);
        VaeConfig cfg = VaeConfig.read(folder);
        try (TensorStore store = TensorStore.open("vae", folder.vaeFiles())) {
            return of(cfg, AutoencoderKL.weights(cfg, store, null));
        }
    }

    public VaeConfig config() { return cfg; }

    /** The 240 tensors of the FLUX.1 layout (fewer without mid-block attention), diffusers names, trainable. */
    public Parameters parameters() { return params; }

    /** Activations for batches of {@code batch} images of height x width pixels (multiples of 2^(levels−1)). */
    public VaeActivations newActivations(int batch, int height, int width) {
        int f = cfg.downscale();
        if (batch <= 0 || height <= 0 || width <= 0 || height % f != 0 || width % f != 0)
            throw new OvisException("vae: images must be a positive multiple of " + f + " pixels a side, got " + width + "x" + height);
        MapShape image = new MapShape(batch, height, width, cfg.inChannels());
        Stage.State[] enc = encoder.newStates(image);
        MapShape moments = enc[enc.length - 1].out;
        MapShape latent = moments.withChannels(cfg.latentChannels());
        Stage.State[] dec = decoder.newStates(latent);
        return new VaeActivations(this, image, latent, enc, dec);
    }

    /**
     * Encoder, posterior sample and decoder for images [B, C, H, W] with ε [B, L, h, w], keeping in
     * {@code a} everything the backward needs.
     */
    public void forward(VaeActivations a, float[] imageNchw, float[] epsNchw) {
        a.checkModel(this);
        MapShape im = a.imageShape, lat = a.latentShape;
        expect("image", imageNchw, im.size());
        expect("eps", epsNchw, lat.size());
        ChannelsLast.fromNchw(imageNchw, im.batch(), im.c(), im.h(), im.w(), a.image);
        ChannelsLast.fromNchw(epsNchw, lat.batch(), lat.c(), lat.h(), lat.w(), a.eps);
        encoder.forward(a.image, a.encoder, a.workspace);
        DiagonalGaussianOp.forward(a.moments(), lat.batch() * lat.pixels(), lat.c(), a.eps, a.mean, a.logvar, a.std, a.z);
        decoder.forward(a.z, a.decoder, a.workspace);
    }

    /**
     * The backward of {@link #forward} from the gradient seeds in {@code a}: {@link VaeActivations#reconGrad()}
     * (at the reconstruction) and {@link VaeActivations#meanGrad()} / {@link VaeActivations#logvarGrad()}
     * (other terms at the posterior, e.g. a KL divergence; zero if none). Adds every parameter's gradient
     * to its {@code grad} and the image's to {@link VaeActivations#imageGrad()}; afterwards meanGrad and
     * logvarGrad hold the total gradients at the posterior's mean and clamped log-variance.
     */
    public void backward(VaeActivations a) {
        a.checkModel(this);
        MapShape lat = a.latentShape;
        java.util.Arrays.fill(a.zGrad, 0f);
        decoder.backward(a.z, a.decoder, a.reconGrad, a.zGrad, a.workspace);
        DiagonalGaussianOp.backward(a.moments(), lat.batch() * lat.pixels(), lat.c(), a.std, a.eps, a.zGrad,
                a.meanGrad, a.logvarGrad, a.momentsGrad);
        encoder.backward(a.image, a.encoder, a.momentsGrad, a.imageGrad, a.workspace);
    }

    private static void expect(String what, float[] x, int n) {
        if (x.length != n) throw new OvisException("vae: " + what + " has " + x.length + " values, expected " + n);
    }
}
