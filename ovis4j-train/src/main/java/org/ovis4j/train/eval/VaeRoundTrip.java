package org.ovis4j.train.eval;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.ovis4j.core.OvisException;
import org.ovis4j.pipeline.GeneratedImage;
import org.ovis4j.train.data.Preprocessing;
import org.ovis4j.vae.AutoencoderKL;
import org.ovis4j.vae.LatentDistribution;

/**
 * VAE round trips of images: encode, take the posterior's mean (its mode, as diffusers' evaluation
 * does, so the result does not depend on a draw), decode, and write the result as the pipeline writes
 * a generated image (clamp(x/2 + 0.5), 8-bit by round half to even). The PSNR is measured between the
 * 8-bit files, what a viewer (and the OCR) sees: 10·log10(255² / MSE) over all pixels and channels.
 */
public final class VaeRoundTrip {
    /** One image: its name, size and PSNR (dB; infinite for an exact copy). */
    public record Image(String name, int width, int height, double psnr, double mse) {}

    private VaeRoundTrip() {}

    /** Round trips of {@code inputs} (PNG or JPEG files), written under the same names (as .png) into {@code outDir}. */
    public static List<Image> run(AutoencoderKL vae, List<Path> inputs, Path outDir) {
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new OvisException(outDir + ": cannot create (" + e.getMessage() + ")");
        }
        int f = vae.config().downscale();
        List<Image> out = new ArrayList<>();
        for (Path in : inputs) {
            BufferedImage img = read(in);
            int w = img.getWidth(), h = img.getHeight();
            if (w % f != 0 || h % f != 0)
                throw new OvisException(in + ": " + w + "x" + h + " is not a multiple of the VAE's downscale " + f + " in both directions");
            float[] x = Preprocessing.modelInput(img);
            LatentDistribution d = vae.encode(x, h, w);
            GeneratedImage recon = GeneratedImage.fromDecoded(vae.decode(d.mean(), d.h(), d.w()), w, h, Map.of("Software", "ovis4j eval vae"));
            String name = in.getFileName().toString();
            int dot = name.lastIndexOf('.');
            Path file = outDir.resolve((dot > 0 ? name.substring(0, dot) : name) + ".png");
            recon.writePng(file);
            double mse = mse(img, recon.rgb8());
            out.add(new Image(name, w, h, psnr(mse), mse));
        }
        return out;
    }

    /** Mean squared error of 8-bit values between an image and HWC RGB bytes. */
    static double mse(BufferedImage img, byte[] rgb8) {
        int w = img.getWidth(), h = img.getHeight();
        float[] planes = Preprocessing.rgbPlanes(img);
        double s = 0;
        int n = w * h;
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < n; p++) {
                double a = planes[c * n + p], b = rgb8[p * 3 + c] & 0xFF;
                s += (a - b) * (a - b);
            }
        return s / (3.0 * n);
    }

    static double psnr(double mse) {
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(255.0 * 255.0 / mse);
    }

    private static BufferedImage read(Path in) {
        try {
            BufferedImage img = ImageIO.read(in.toFile());
            if (img == null) throw new OvisException(in + ": not a PNG or JPEG image");
            return img;
        } catch (IOException e) {
            throw new OvisException(in + ": cannot read (" + e.getMessage() + ")");
        }
    }
}
