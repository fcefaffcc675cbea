package org.ovis4j.train.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Config;
import org.ovis4j.core.json.Json;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.DType;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;
import org.ovis4j.vae.AutoencoderKL;
import org.ovis4j.vae.VaeConfig;

/**
 * A diffusers {@code vae/} folder: {@code config.json} (the AutoencoderKL config the run was given,
 * with {@code scaling_factor} and {@code shift_factor} as measured) and
 * {@code diffusion_pytorch_model.safetensors} (float32, diffusers names), what
 * {@code AutoencoderKL.from_pretrained} and ovis4j's own loader read unmodified.
 */
public final class VaeFolder {
    public static final String CONFIG = "config.json", WEIGHTS = "diffusion_pytorch_model.safetensors";

    private VaeFolder() {}

    /** The config JSON with the two latent factors set (the other keys as given, in their order). */
    static Map<String, Object> config(Map<String, Object> given, double scalingFactor, double shiftFactor) {
        Map<String, Object> m = new LinkedHashMap<>(given);
        m.putIfAbsent("_class_name", "AutoencoderKL");
        m.put("scaling_factor", scalingFactor);
        m.put("shift_factor", shiftFactor);
        return m;
    }

    /** Writes the folder's two files into {@code dir} (created), each announced to {@code folder}'s seam first. */
    static void write(RunFolder folder, Path dir, Map<String, Object> config, Parameters params, java.util.function.Function<Parameter, float[]> values)
            throws IOException {
        Files.createDirectories(dir);
        folder.writeAtomically(dir.resolve(CONFIG), Json.write(config, 2) + "\n");
        Path weights = dir.resolve(WEIGHTS);
        folder.beforeWrite(weights);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt").metadata("generator", "ovis4j train vae");
        for (Parameter p : params) w.addFloats(p.name(), DType.F32, p.shape(), values.apply(p));
        w.write(weights);
    }

    /** An opened folder: the model on float32 kernels and the store it reads (close it after use). */
    public record Opened(AutoencoderKL vae, TensorStore store) implements AutoCloseable {
        @Override public void close() { store.close(); }
    }

    /** Loads a diffusers {@code vae/} folder (config.json and safetensors) as inference does. */
    public static Opened open(Path dir) {
        Path cfg = dir.resolve(CONFIG);
        if (!Files.isRegularFile(cfg)) throw new OvisException(dir + ": not a VAE folder (no " + CONFIG + ")");
        VaeConfig c = VaeConfig.fromDiffusers(Config.read(cfg));
        TensorStore store = TensorStore.openFolder(dir);
        try {
            return new Opened(AutoencoderKL.of(c, store, DType.F32), store);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }
}
