package org.ovis4j.train.data;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.ovis4j.core.OvisException;

/**
 * Turns a record's encoded image into the VAE's input at the training size: decode, resize so the
 * image covers the training size (its shorter side, relative to the target's aspect, onto the
 * target; {@link Resampler}: antialiased bilinear), crop to the training size (centred, or at a
 * seeded offset that depends on the seed and the record's key alone, so it does not change with the
 * order records are processed in), and scale to [−1, 1] CHW [3, height, width] float, the layout
 * {@code AutoencoderKL.encode} takes (diffusers: ToTensor, then Normalize(0.5, 0.5)). No flips:
 * mirrored text is not text. Alpha is dropped (as PIL's {@code convert("RGB")} does).
 */
public record Preprocessing(int width, int height, Resize resize, Crop crop, long seed) {
    public enum Resize {
        /** The image must already have the training size; anything else is an error naming the record. */
        OFF,
        /** Scale (antialiased bilinear) until the image covers the training size, then crop. */
        COVER,
        /**
         * No scaling: crop the training size out of the image, which must be at least that large (a VAE
         * trains on crops at the data's own scale, so strokes keep the width they will have at inference).
         */
        CROP;

        public String id() { return name().toLowerCase(Locale.ROOT); }
    }

    public enum Crop {
        CENTER, RANDOM;

        public String id() { return name().toLowerCase(Locale.ROOT); }
    }

    /** Purpose word of the crop offsets' random streams. */
    private static final long CROP = 3;

    public Preprocessing {
        if (width < 16 || height < 16 || width % 16 != 0 || height % 16 != 0)
            throw new OvisException("training size must be a positive multiple of 16 in both directions (the VAE's 8x and the "
                    + "2x2 latent packing), got " + width + "x" + height);
    }

    /** The model input for {@code r} (which must hold its image): CHW [3, height, width] in [−1, 1]. */
    public float[] apply(ShardRecord r) {
        if (r.image() == null) throw new IllegalArgumentException(r.where() + ": image was not read");
        BufferedImage img;
        try {
            img = ImageIO.read(new ByteArrayInputStream(r.image()));
        } catch (IOException | RuntimeException e) {
            throw new OvisException(r.where() + ": image does not decode (" + e.getMessage() + ")");
        }
        if (img == null) throw new OvisException(r.where() + ": image does not decode (not a PNG or JPEG file)");
        int w0 = img.getWidth(), h0 = img.getHeight();
        float[] rgb = rgbPlanes(img);
        int rw = w0, rh = h0;
        if (resize == Resize.CROP) {
            if (w0 < width || h0 < height)
                throw new OvisException(r.where() + ": image is " + w0 + "x" + h0 + ", smaller than the crop " + width + "x" + height);
        } else if (w0 != width || h0 != height) {
            if (resize == Resize.OFF)
                throw new OvisException(r.where() + ": image is " + w0 + "x" + h0 + ", the training size is " + width + "x" + height
                        + " and resizing is off");
            double s = Math.max((double) width / w0, (double) height / h0);
            rw = Math.max(width, (int) Math.round(w0 * s));
            rh = Math.max(height, (int) Math.round(h0 * s));
            rgb = Resampler.resize(rgb, 3, h0, w0, rh, rw);
        }
        int x0 = (rw - width) / 2, y0 = (rh - height) / 2;
        if (crop == Crop.RANDOM && (rw > width || rh > height)) {
            SeededRandom rnd = new SeededRandom(SeededRandom.derive(seed, CROP, keyHash(r.key())));
            x0 = rnd.nextInt(rw - width + 1);
            y0 = rnd.nextInt(rh - height + 1);
        }
        float[] out = new float[3 * width * height];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < height; y++) {
                int src = (c * rh + y0 + y) * rw + x0, dst = (c * height + y) * width;
                for (int x = 0; x < width; x++) out[dst + x] = modelValue(rgb[src + x]);
            }
        return out;
    }

    /** An 8-bit value 0…255 as the VAE's input in [−1, 1] (Normalize(0.5, 0.5) after ToTensor). */
    private static float modelValue(float v) {
        return (float) (v / 127.5 - 1.0);
    }

    /** A whole image, at its own size, as the VAE's input: CHW [3, h, w] in [−1, 1], as {@link #apply} makes it. */
    public static float[] modelInput(BufferedImage img) {
        float[] rgb = rgbPlanes(img);
        for (int i = 0; i < rgb.length; i++) rgb[i] = modelValue(rgb[i]);
        return rgb;
    }

    /** 8-bit values 0…255 as float planes [3, h, w]; grey and RGB rasters read directly, others via sRGB. */
    public static float[] rgbPlanes(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight(), n = w * h;
        float[] out = new float[3 * n];
        Raster raster = img.getRaster();
        int bands = raster.getNumBands();
        boolean bytes = raster.getSampleModel().getSampleSize(0) == 8 && !(img.getColorModel() instanceof IndexColorModel);
        if (bytes && (bands == 3 || bands == 4)) {
            float[] band = new float[n];
            for (int c = 0; c < 3; c++) {
                raster.getSamples(0, 0, w, h, c, band);
                System.arraycopy(band, 0, out, c * n, n);
            }
        } else if (bytes && (bands == 1 || bands == 2)) {
            // Grey: getRGB would pass it through a linear-grey colour conversion and change the values.
            float[] band = new float[n];
            raster.getSamples(0, 0, w, h, 0, band);
            for (int c = 0; c < 3; c++) System.arraycopy(band, 0, out, c * n, n);
        } else {
            int[] px = img.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < n; i++) {
                out[i] = (px[i] >> 16) & 0xFF;
                out[n + i] = (px[i] >> 8) & 0xFF;
                out[2 * n + i] = px[i] & 0xFF;
            }
        }
        return out;
    }

    /** FNV-1a over the key's UTF-8 bytes: a stable 64-bit name for a record. */
    static long keyHash(String key) {
        return SeededRandom.hash(key);
    }
}
