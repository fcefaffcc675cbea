package org.ovis4j.train.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.image.PngWriter;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.train.testing.TinyShards;
import org.ovis4j.vae.AutoencoderKL;
import org.ovis4j.vae.VaeConfig;

/**
 * Round trips through the goldens' tiny VAE: the written PNG is the decode of the posterior mean in the
 * pipeline's 8-bit conversion, and the PSNR is recomputed here from the two files.
 */
class VaeRoundTripTest {
    static final Path TINY = Path.of("src/test/resources/goldens/ovis_image_tiny");
    @TempDir Path dir;

    @Test
    void writesTheDecodedMeanAndItsPsnrFromTheFiles() throws IOException {
        int w = 32, h = 24;
        Path in = dir.resolve("in");
        PngWriter.write(in.resolve("a.png"), TinyShards.rgb(w, h, 1), w, h, null);
        PngWriter.write(in.resolve("b.png"), TinyShards.rgb(w, h, 2), w, h, null);
        VaeConfig cfg = VaeConfig.fromDiffusers(TINY.resolve("vae/config.json"));
        try (TensorStore store = TensorStore.openFolder(TINY.resolve("vae"))) {
            AutoencoderKL vae = AutoencoderKL.of(cfg, store, org.ovis4j.core.tensor.DType.F32);
            List<VaeRoundTrip.Image> r = VaeRoundTrip.run(vae, List.of(in.resolve("a.png"), in.resolve("b.png")), dir.resolve("out"));
            assertEquals(2, r.size());
            for (int k = 0; k < 2; k++) {
                VaeRoundTrip.Image im = r.get(k);
                BufferedImage src = ImageIO.read(in.resolve(im.name()).toFile()), out = ImageIO.read(dir.resolve("out").resolve(im.name()).toFile());
                assertEquals(w, out.getWidth());
                assertEquals(h, out.getHeight());
                // the decode of the mean, converted as the pipeline converts (clamp(x/2 + 0.5), round half to even of 255·p)
                float[] x = org.ovis4j.train.data.Preprocessing.modelInput(src);
                var d = vae.encode(x, h, w);
                float[] chw = vae.decode(d.mean(), d.h(), d.w());
                double se = 0;
                for (int y = 0; y < h; y++)
                    for (int xx = 0; xx < w; xx++) {
                        int a = src.getRGB(xx, y), b = out.getRGB(xx, y);
                        for (int c = 0; c < 3; c++) {
                            int sa = (a >> (16 - 8 * c)) & 0xFF, sb = (b >> (16 - 8 * c)) & 0xFF;
                            float p = Math.min(1f, Math.max(0f, chw[(c * h + y) * w + xx] / 2f + 0.5f));
                            assertEquals((int) Math.rint(p * 255.0f), sb, "pixel " + xx + "," + y + " channel " + c);
                            se += (double) (sa - sb) * (sa - sb);
                        }
                    }
                double mse = se / (3.0 * w * h);
                assertEquals(mse, im.mse(), 1e-12 * (1 + mse));
                assertEquals(10 * Math.log10(255.0 * 255 / mse), im.psnr(), 1e-9);
                assertTrue(im.psnr() > 0 && im.psnr() < 40, "a random VAE does not reproduce the image: " + im.psnr());
            }
        }
        assertEquals(Double.POSITIVE_INFINITY, VaeRoundTrip.psnr(0));
    }

    @Test
    void imagesNotAMultipleOfTheDownscaleAreRefused() throws IOException {
        Path in = dir.resolve("odd.png");
        PngWriter.write(in, TinyShards.rgb(30, 24, 1), 30, 24, null);
        VaeConfig cfg = VaeConfig.fromDiffusers(TINY.resolve("vae/config.json"));
        try (TensorStore store = TensorStore.openFolder(TINY.resolve("vae"))) {
            AutoencoderKL vae = AutoencoderKL.of(cfg, store, org.ovis4j.core.tensor.DType.F32);
            OvisException e = assertThrows(OvisException.class, () -> VaeRoundTrip.run(vae, List.of(in), dir.resolve("out")));
            assertTrue(e.getMessage().endsWith("30x24 is not a multiple of the VAE's downscale " + cfg.downscale() + " in both directions"), e.getMessage());
        }
    }
}
