package org.ovis4j.lora;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.tensor.ParameterSpec;
import org.ovis4j.dit.TransformerConfig;

/**
 * One LoRA as a model applies it (diffusers' named adapter): the adapters of a file, or made in
 * memory, at the weight their updates were scaled by, and the name a generated image records them
 * under ({@code lora} parameter: {@code name:weight}, one entry per LoRA). Several LoRAs on one model
 * add their updates, as diffusers' {@code set_adapters([...], weights)} does.
 *
 * <pre>{@code
 * TransformerConfig dit = TransformerConfig.read(CheckpointFolder.detect(dir));
 * OvisImage model = OvisImage.load(dir, Precision.BF16, context,
 *         List.of(Lora.read(Path.of("style.safetensors"), 0.8f, dit)));
 * }</pre>
 */
public record Lora(String name, float weight, List<LoraAdapter> adapters) {
    public Lora {
        if (!Float.isFinite(weight)) throw new OvisException("lora " + name + ": weight " + weight + " is not a finite number");
        if (adapters.isEmpty()) throw new OvisException("lora " + name + ": no adapters");
        adapters = List.copyOf(adapters);
    }

    /**
     * The adapters of a LoRA file ({@link LoraFile#read(Path, TransformerConfig)}: diffusers, kohya or
     * stable-diffusion.cpp names, either module layout) for a transformer of {@code config}, each
     * update scaled by {@code weight}·alpha/rank — what peft's {@code set_scale(adapter, weight)}
     * (diffusers' {@code set_adapters(name, weight)}) and the {@code joint_attention_kwargs={"scale":
     * weight}} of a pipeline call both give. Everything is checked here, before any model weight is
     * read: the file, its tensors, and that each module is a linear module of the config with the
     * adapter's shape. Errors are one line naming the file and the module.
     */
    public static Lora read(Path file, float weight, TransformerConfig config) {
        if (Files.isDirectory(file)) throw new OvisException(file + ": is a folder, not a LoRA safetensors file");
        if (!Float.isFinite(weight)) throw new OvisException(file + ": LoRA weight " + weight + " is not a finite number");
        List<LoraAdapter> adapters = new ArrayList<>();
        for (LoraFile.Adapter s : LoraFile.read(file, config)) adapters.add(s.toAdapter(weight));
        requireFits(file.toString(), adapters, config);
        Path name = file.getFileName();
        return new Lora(name != null ? name.toString() : file.toString(), weight, adapters);
    }

    /** Adapters made in memory, applied with the scales they carry (weight 1). */
    public static Lora of(String name, List<LoraAdapter> adapters) {
        return new Lora(name, 1f, adapters);
    }

    /** Checks every adapter against a transformer of {@code config}; errors name this LoRA and the module. */
    public void requireFits(TransformerConfig config) {
        requireFits(name, adapters, config);
    }

    private static void requireFits(String what, List<LoraAdapter> adapters, TransformerConfig config) {
        Map<String, ParameterSpec> walk = ParameterSpec.byName(config.parameters());
        for (LoraAdapter a : adapters) {
            try {
                a.requireFits("transformer", walk);
            } catch (OvisException e) {
                throw new OvisException(what + ": " + e.getMessage() + " (is the LoRA for another model?)");
            }
        }
    }

    /** How a generated image records it: {@code name:weight}. */
    public String label() {
        return name + ":" + weight;
    }
}
