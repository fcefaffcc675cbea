package org.ovis4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ovis4j.cli.CliTest.TINY;
import static org.ovis4j.cli.CliTest.assertFailsBeforeLoading;
import static org.ovis4j.cli.CliTest.run;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.safetensors.SafetensorsWriter;
import org.ovis4j.core.tensor.DType;

/** {@code generate --lora FILE[:SCALE]} on the tiny checkpoint with the goldens' diffusers LoRA file. */
class LoraCliTest {
    /** training/lora_weights.safetensors: 26 attention and single-block modules, rank 4, alpha 8. */
    static final Path LORA = TINY.resolve("training/lora_weights.safetensors");

    static CliTest.Result generate(Path png, String precision, String... lora) {
        List<String> args = new ArrayList<>(List.of("generate", "--model", TINY.toString(), "--prompt", "a red apple", "--width", "32",
                "--height", "32", "--steps", "2", "--guidance", "4", "--seed", "3", "--max-sequence-length", "16", "--precision", precision,
                "--output", png.toString()));
        for (String l : lora) args.addAll(List.of("--lora", l));
        return run(args.toArray(String[]::new));
    }

    static int[] pixels(Path png) throws IOException {
        BufferedImage im = ImageIO.read(png.toFile());
        return im.getRGB(0, 0, im.getWidth(), im.getHeight(), null, 0, im.getWidth());
    }

    /** Largest difference of one 8-bit channel between two images. */
    static int levels(int[] a, int[] b) {
        int worst = 0;
        for (int i = 0; i < a.length; i++)
            for (int s = 0; s <= 16; s += 8) worst = Math.max(worst, Math.abs((a[i] >> s & 0xFF) - (b[i] >> s & 0xFF)));
        return worst;
    }

    static String text(Path png) throws IOException {
        return new String(Files.readAllBytes(png), StandardCharsets.ISO_8859_1);
    }

    @Test
    void aLoraChangesTheImageScaleZeroDoesNotAndSeveralAddUp(@TempDir Path tmp) throws IOException {
        Path plain = tmp.resolve("plain.png"), lora = tmp.resolve("lora.png"), zero = tmp.resolve("zero.png"), halves = tmp.resolve("halves.png");
        assertEquals(0, generate(plain, "fp32").code());
        CliTest.Result r = generate(lora, "fp32", LORA.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(0, generate(zero, "fp32", LORA + ":0").code());
        assertEquals(0, generate(halves, "fp32", LORA + ":0.5", LORA + ":0.5").code());

        int[] p = pixels(plain), l = pixels(lora);
        int moved = levels(p, l);
        System.out.printf("lora cli: the LoRA at scale 1 moves the tiny 32x32 image by up to %d levels%n", moved);
        assertTrue(moved > 8, "the LoRA moved the image by only " + moved + " levels");
        assertEquals(0, levels(p, pixels(zero)), "scale 0 must give the image without LoRA");
        // two LoRAs at 0.5 are one at 1 up to float32 rounding of the sum (one level at most, on the rounding edge)
        assertTrue(levels(l, pixels(halves)) <= 1, "two halves differ from the whole by " + levels(l, pixels(halves)));

        assertTrue(text(lora).contains("lora_weights.safetensors:1.0"), "PNG lacks the lora parameter");
        assertTrue(text(zero).contains("lora_weights.safetensors:0.0"));
        assertTrue(text(halves).contains("lora_weights.safetensors:0.5, lora_weights.safetensors:0.5"));
        assertFalse(text(plain).contains("lora"), "an image without LoRA records none");
    }

    /** bf16: the base's matrices prepared in bf16, the adapters float32; the LoRA acts as in fp32. */
    @Test
    void worksInBf16(@TempDir Path tmp) throws IOException {
        Path plain = tmp.resolve("plain.png"), lora = tmp.resolve("lora.png"), fp32 = tmp.resolve("fp32.png");
        assertEquals(0, generate(plain, "bf16").code());
        CliTest.Result r = generate(lora, "bf16", LORA.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(0, generate(fp32, "fp32", LORA.toString()).code());
        int moved = levels(pixels(plain), pixels(lora)), off = levels(pixels(fp32), pixels(lora));
        System.out.printf("lora cli: bf16 with LoRA moved %d levels from bf16 without, %d from fp32 with LoRA%n", moved, off);
        assertTrue(moved > 8, "the LoRA moved the bf16 image by only " + moved + " levels");
        assertTrue(off < moved, "bf16 with LoRA is farther from fp32 with LoRA (" + off + ") than from bf16 without (" + moved + ")");
        assertTrue(text(lora).contains("lora_weights.safetensors:1.0"));
    }

    @Test
    void badLoraFilesFailBeforeLoading(@TempDir Path tmp) throws IOException {
        Path png = tmp.resolve("x.png");
        Path missing = tmp.resolve("missing.safetensors");
        assertFailsBeforeLoading(generate(png, "fp32", missing.toString()), missing + ": file not found");
        assertFailsBeforeLoading(generate(png, "fp32", missing + ":0.5"), missing + ": file not found");
        assertFailsBeforeLoading(generate(png, "fp32", tmp.toString()), tmp + ": is a folder");
        assertFailsBeforeLoading(generate(png, "fp32", LORA + ":1e99"), "scale is not a finite number");

        // a LoRA for a deeper model: a block the tiny transformer (2 + 2 blocks) does not have
        Path deeper = tmp.resolve("deeper.safetensors");
        new SafetensorsWriter()
                .addFloats("transformer.transformer_blocks.5.attn.to_q.lora_A.weight", DType.F32, new long[] {4, 32}, new float[128])
                .addFloats("transformer.transformer_blocks.5.attn.to_q.lora_B.weight", DType.F32, new long[] {32, 4}, new float[128])
                .write(deeper);
        assertFailsBeforeLoading(generate(png, "fp32", deeper.toString()),
                deeper + ": the transformer has no linear module transformer_blocks.5.attn.to_q");

        // a LoRA for a wider model (the 7B's 3072 features): the module exists, its shape does not fit
        Path wider = tmp.resolve("wider.safetensors");
        new SafetensorsWriter()
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", DType.F32, new long[] {2, 3072}, new float[2 * 3072])
                .addFloats("transformer.transformer_blocks.0.attn.to_q.lora_B.weight", DType.F32, new long[] {3072, 2}, new float[2 * 3072])
                .write(wider);
        assertFailsBeforeLoading(generate(png, "fp32", LORA.toString(), wider.toString()),
                wider + ": lora transformer_blocks.0.attn.to_q: adapter is [3072, 3072] (rank 2), the module's weight is [32, 32]");

        Path notLora = tmp.resolve("weights.safetensors");
        new SafetensorsWriter().addFloats("transformer_blocks.0.attn.to_q.weight", DType.F32, new long[] {32, 32}, new float[1024]).write(notLora);
        assertFailsBeforeLoading(generate(png, "fp32", notLora.toString()), notLora + ": tensor transformer_blocks.0.attn.to_q.weight is not a LoRA");
        assertFalse(Files.exists(png));
    }
}
