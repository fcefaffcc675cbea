package org.ovis4j.pipeline;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import org.ovis4j.checkpoint.CheckpointFolder;
import org.ovis4j.checkpoint.OriginalTransformerNames;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.kernel.ComputeContext;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.dit.OvisImageTransformer;
import org.ovis4j.dit.PositionEmbedding;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.dit.TransformerWorkspace;
import org.ovis4j.lora.LoraAdapter;
import org.ovis4j.schedule.FlowMatchEulerScheduler;
import org.ovis4j.text.OvisTextEncoder;
import org.ovis4j.text.Qwen3Config;
import org.ovis4j.text.Qwen3Model;
import org.ovis4j.tokenizer.OvisPrompt;
import org.ovis4j.tokenizer.Qwen3Tokenizer;
import org.ovis4j.vae.AutoencoderKL;
import org.ovis4j.vae.VaeConfig;
import org.ovis4j.vae.VaeTiling;

/**
 * The Ovis-Image text-to-image pipeline (diffusers' {@code OvisImagePipeline}): load a checkpoint
 * once, then {@link #generate} as many images as wanted. Weights stay memory-mapped until
 * {@link #close}. The kernels are those of the {@link ComputeContext} given at load; what a
 * generation needs besides the weights (activation buffers, progress, cancellation) belongs to
 * that generation, so two instances in one JVM never affect each other. One instance runs one
 * generation at a time.
 *
 * <pre>{@code
 * try (OvisImage model = OvisImage.load(Path.of("Ovis-Image-7B"), Precision.BF16)) {
 *     model.generate(Generation.of("a poster that says \"OPEN\"").seed(7)).writePng(Path.of("open.png"));
 * }
 * }</pre>
 */
public final class OvisImage implements AutoCloseable {
    /** Named intermediate values, for tests that compare a run with the reference step by step. */
    interface Trace {
        void record(String name, float[] values);

        Trace NONE = (name, values) -> {};
    }

    private final CheckpointFolder folder;
    private final Precision precision;
    private final ComputeContext context;
    private final Qwen3Tokenizer tokenizer;
    private final OvisTextEncoder textEncoder;
    private final OvisImageTransformer transformer;
    private final AutoencoderKL vae;
    private final FlowMatchEulerScheduler scheduler;
    private final List<TensorStore> stores;
    private final TensorStore textStore;

    private OvisImage(CheckpointFolder folder, Precision precision, ComputeContext context, Qwen3Tokenizer tokenizer, OvisTextEncoder textEncoder,
                      OvisImageTransformer transformer, AutoencoderKL vae, FlowMatchEulerScheduler scheduler,
                      List<TensorStore> stores, TensorStore textStore) {
        this.folder = folder;
        this.precision = precision;
        this.context = context;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.transformer = transformer;
        this.vae = vae;
        this.scheduler = scheduler;
        this.stores = stores;
        this.textStore = textStore;
    }

    /**
     * Loads a checkpoint folder in either published layout (see {@link CheckpointFolder}), on the
     * backend asked for by {@code ovis4j.backend} / {@code OVIS4J_BACKEND} (default auto); FP32
     * always computes on the exact float32 Java kernels.
     */
    public static OvisImage load(Path dir, Precision precision) {
        // The parity mode must not round activations, which native backends do for bf16 weights.
        boolean exact = precision == Precision.FP32;
        return load(dir, precision, ComputeContext.create(exact ? "auto" : ComputeContext.requestedBackend(), exact));
    }

    /** Loads a checkpoint folder on the given kernels; FP32 needs an exact float32 context. */
    public static OvisImage load(Path dir, Precision precision, ComputeContext context) {
        return load(dir, precision, context, List.of());
    }

    /**
     * Loads a checkpoint folder on the given kernels with LoRA adapters on transformer modules
     * (diffusers module names; several on one module add up).
     */
    public static OvisImage load(Path dir, Precision precision, ComputeContext context, List<LoraAdapter> adapters) {
        if (precision == Precision.FP32 && !context.exactFloat32())
            throw new OvisException("fp32 precision needs an exact float32 compute context (java backend), not " + context);
        CheckpointFolder folder = CheckpointFolder.detect(dir);
        // Every config is read and the components checked against each other before any weights are
        // opened: converting a 7B checkpoint's matrices takes minutes, a mismatch in a config file does not.
        Qwen3Config textConfig = Qwen3Config.readFolder(folder.textEncoderDir());
        TransformerConfig ditConfig = TransformerConfig.read(folder);
        if (ditConfig.jointAttentionDim() != textConfig.hiddenSize())
            throw new OvisException(dir + ": transformer expects text states of width " + ditConfig.jointAttentionDim()
                    + " but the text encoder's hidden size is " + textConfig.hiddenSize());
        VaeConfig vaeConfig = VaeConfig.read(folder);
        if (vaeConfig.latentChannels() * 4 != ditConfig.inChannels())
            throw new OvisException(dir + ": transformer in_channels " + ditConfig.inChannels()
                    + " does not match 4 x the VAE's " + vaeConfig.latentChannels() + " latent channels");
        Path schedulerFile = folder.schedulerConfig();
        var scheduler = schedulerFile != null ? FlowMatchEulerScheduler.fromConfig(schedulerFile) : FlowMatchEulerScheduler.defaults();
        Qwen3Tokenizer tokenizer = Qwen3Tokenizer.load(folder.tokenizerJson());

        List<TensorStore> stores = new ArrayList<>();
        try {
            TensorStore textStore = open(stores, "text encoder", folder.textEncoderFiles());
            OvisTextEncoder textEncoder = new OvisTextEncoder(Qwen3Model.load(textStore, textConfig, precision.matrixType, context));

            TensorStore ditStore = open(stores, "transformer", folder.transformerFiles());
            var transformer = new OvisImageTransformer(ditConfig, OriginalTransformerNames.weights(ditStore, ditConfig, precision.matrixType),
                    context, precision == Precision.INT8);
            if (!adapters.isEmpty()) transformer = transformer.withLora(adapters);

            // The VAE is small next to its activations; it always computes from the stored weights.
            AutoencoderKL vae = AutoencoderKL.of(vaeConfig, open(stores, "vae", folder.vaeFiles()), null, context);

            return new OvisImage(folder, precision, context, tokenizer, textEncoder, transformer, vae, scheduler, stores, textStore);
        } catch (RuntimeException e) {
            for (TensorStore s : stores) s.close();
            throw e;
        }
    }

    private static TensorStore open(List<TensorStore> stores, String what, List<Path> files) {
        TensorStore s = TensorStore.open(what, files);
        stores.add(s);
        return s;
    }

    public CheckpointFolder folder() { return folder; }
    public Precision precision() { return precision; }
    public ComputeContext context() { return context; }
    public Qwen3Tokenizer tokenizer() { return tokenizer; }
    public OvisTextEncoder textEncoder() { return textEncoder; }
    public OvisImageTransformer transformer() { return transformer; }
    public AutoencoderKL vae() { return vae; }

    private volatile VaeTiling vaeTiling = VaeTiling.AUTO;

    /** How images are decoded: {@link VaeTiling#AUTO} (default: in tiles above 512 pixels a side) or OFF. */
    public OvisImage vaeTiling(VaeTiling tiling) {
        this.vaeTiling = java.util.Objects.requireNonNull(tiling);
        return this;
    }

    public VaeTiling vaeTiling() { return vaeTiling; }
    public FlowMatchEulerScheduler scheduler() { return scheduler; }

    /**
     * The text encoder reads its weights in place from the mapped files; between prompts they need
     * not be resident (they stay in the page cache and fault back in on the next prompt).
     */
    public void releaseTextEncoderPages() {
        textStore.unload();
    }

    /** Set by the launcher ({@code -Dovis4j.collectBetweenPhases=true}); off for applications that embed the library. */
    private static final boolean COLLECT_BETWEEN_PHASES = Boolean.getBoolean("ovis4j.collectBetweenPhases");

    /**
     * Between denoising and decoding, once the generation's {@link TransformerWorkspace} (about
     * 1 GiB per sample at 1024x1024, kept from step to step) is unreachable, just before the VAE
     * needs about as much. G1 grows the heap rather than collect dead humongous arrays promptly,
     * which added 1.2 GiB to the peak of a Q8_0 1024x1024 run; with the launcher's setting this
     * collects them now (a full collection of a small live heap, tens of milliseconds). Applications
     * that embed the library keep their own collector policy: without the setting no collection is
     * asked for.
     */
    public void collectDeadActivations() {
        if (COLLECT_BETWEEN_PHASES) System.gc();
    }

    /** Images for several requests, one after another (the weights are shared). */
    public List<GeneratedImage> generate(List<Generation> requests) {
        List<GeneratedImage> out = new ArrayList<>(requests.size());
        for (Generation g : requests) out.add(generate(g));
        return out;
    }

    /**
     * One image. Throws {@link OvisException} for invalid requests and {@link CancellationException}
     * when {@link Generation#cancel()} is called while it runs.
     */
    public GeneratedImage generate(Generation g) {
        return generate(g, Trace.NONE);
    }

    /** As {@link #generate(Generation)}, showing intermediates to {@code trace}. */
    GeneratedImage generate(Generation g, Trace trace) {
        g.validate();
        ProgressListener listener = g.listener();
        int msl = g.maxSequenceLength();
        listener.onStage("encode prompt");
        float[] cond = encodePrompt("prompt", g.prompt(), msl, listener, trace);
        float[] uncond = g.guided() ? encodePrompt("negative_prompt", g.negativePrompt(), msl, listener, trace) : null;
        releaseTextEncoderPages();
        checkCancelled(g);
        return generate(g, cond, uncond, trace);
    }

    /**
     * Denoising and decoding from prompt embeddings [msl, hidden]; {@code uncond} is used (and
     * required) only when the guidance is above 1.
     */
    GeneratedImage generate(Generation g, float[] cond, float[] uncond, Trace trace) {
        int latentChannels = vae.config().latentChannels(), scale = vae.config().downscale();
        int h = g.height() / scale, w = g.width() / scale;
        // The denoising's workspace is unreachable once it returns: collectDeadActivations can free it.
        float[] x = denoise(g, cond, uncond, trace, h, w);
        collectDeadActivations();
        g.listener().onStage("decode");
        float[] z = Latents.unpack(x, latentChannels, h, w);
        float scaling = (float) vae.config().scalingFactor(), shift = (float) vae.config().shiftFactor();
        for (int k = 0; k < z.length; k++) z[k] = z[k] / scaling + shift;
        trace.record("vae_decode_in", z);
        float[] decoded = vae.decode(z, h, w, vaeTiling);
        trace.record("decoded", decoded);
        return GeneratedImage.fromDecoded(decoded, g.width(), g.height(), parameters(g));
    }

    /** The packed latents after every step, from the initial noise of latent size h x w. */
    private float[] denoise(Generation g, float[] cond, float[] uncond, Trace trace, int h, int w) {
        ProgressListener listener = g.listener();
        int msl = g.maxSequenceLength(), latentChannels = vae.config().latentChannels();
        int gridH = h / 2, gridW = w / 2, tokens = gridH * gridW;
        boolean guided = g.guided();
        TransformerWorkspace ws = new TransformerWorkspace();

        float[] noise = g.initialNoise() != null ? g.initialNoise().clone()
                : GaussianNoise.sample(g.seed(), latentChannels * h * w);
        float[] x = Latents.pack(noise, latentChannels, h, w);
        trace.record("latents_packed", x);
        float[] ids = PositionEmbedding.ids(msl, gridH, gridW);
        FlowMatchEulerScheduler.Schedule schedule = scheduler.schedule(g.steps(), tokens);
        trace.record("sigmas", schedule.sigmas());

        for (int i = 0; i < schedule.steps(); i++) {
            long t0 = System.nanoTime();
            float sigma = schedule.modelSigma(i);
            // Guidance runs both branches as one batch of two: each weight is read once per step.
            float[][] both = transformer.forward(ws, x, tokens, guided ? new float[][] {cond, uncond} : new float[][] {cond}, msl, sigma, ids);
            float[] v = both[0];
            trace.record("step." + i + ".noise_pred_cond", v);
            if (guided) {
                float[] vu = both[1];
                trace.record("step." + i + ".noise_pred_uncond", vu);
                float s = g.guidance();
                for (int k = 0; k < v.length; k++) v[k] = vu[k] + s * (v[k] - vu[k]);
            }
            schedule.step(i, x, v);
            trace.record("step." + i + ".latents", x);
            listener.onStep(i + 1, schedule.steps(), System.nanoTime() - t0);
            checkCancelled(g);
        }
        return x;
    }

    /**
     * prompt_embeds [msl, hidden] for one prompt exactly as {@link #generate} computes them (template,
     * truncation, right padding, the 28 dropped rows; pad rows exactly zero), telling {@code listener}
     * when the template had to be cut. Training caches its text states through this, so that they are
     * the states generation conditions on.
     */
    public float[] encodePrompt(String prompt, int maxSequenceLength, ProgressListener listener) {
        return encodePrompt("prompt", prompt, maxSequenceLength, listener, Trace.NONE);
    }

    /** prompt_embeds [msl, hidden] for one prompt, warning when the template had to be cut. */
    private float[] encodePrompt(String name, String prompt, int msl, ProgressListener listener, Trace trace) {
        OvisPrompt.Encoded enc = OvisPrompt.encode(tokenizer, prompt, msl);
        if (enc.truncated())
            listener.onWarning(name.replace('_', ' ') + " is " + enc.untruncatedTokens() + " tokens with the template; cut to "
                    + enc.validTokens() + " (max sequence length " + msl + " + " + OvisPrompt.DROPPED_ROWS + ")");
        float[] embeds = textEncoder.encode(enc.ids(), enc.validTokens());
        trace.record(name + "_embeds", embeds);
        return embeds;
    }

    private static void checkCancelled(Generation g) {
        if (g.isCancelled()) throw new CancellationException("generation cancelled");
    }

    private Map<String, String> parameters(Generation g) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("prompt", g.prompt());
        p.put("negative_prompt", g.negativePrompt());
        p.put("seed", g.initialNoise() != null ? "(initial noise given)" : Long.toString(g.seed()));
        p.put("steps", Integer.toString(g.steps()));
        p.put("guidance", Float.toString(g.guidance()));
        p.put("size", g.width() + "x" + g.height());
        p.put("max_sequence_length", Integer.toString(g.maxSequenceLength()));
        p.put("precision", precision.name().toLowerCase());
        p.put("model", folder.root().toAbsolutePath().normalize().getFileName().toString());
        p.put("software", "ovis4j");
        return p;
    }

    @Override
    public void close() {
        for (TensorStore s : stores) s.close();
    }
}
