package org.ovis4j.pipeline;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.ovis4j.core.image.PngWriter;

/**
 * A finished image: float RGB in [0, 1] (HWC, what diffusers returns as "np"), its 8-bit form
 * (round half to even of 255·p, as numpy does), and the parameters that made it.
 */
public final class GeneratedImage {
    private final int width, height;
    private final float[] rgb;
    private final byte[] rgb8;
    private final Map<String, String> parameters;

    GeneratedImage(int width, int height, float[] rgb, Map<String, String> parameters) {
        this.width = width;
        this.height = height;
        this.rgb = rgb;
        this.rgb8 = new byte[rgb.length];
        for (int i = 0; i < rgb.length; i++) rgb8[i] = (byte) (int) Math.rint(rgb[i] * 255.0f);
        this.parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    /** From the VAE output [3, H, W] in about [−1, 1]: p = clamp(x/2 + 0.5, 0, 1), to HWC. */
    public static GeneratedImage fromDecoded(float[] chw, int width, int height, Map<String, String> parameters) {
        float[] hwc = new float[chw.length];
        int plane = width * height;
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < plane; p++) hwc[p * 3 + c] = Math.min(1f, Math.max(0f, chw[c * plane + p] / 2f + 0.5f));
        return new GeneratedImage(width, height, hwc, parameters);
    }

    public int width() { return width; }
    public int height() { return height; }
    /** RGB in [0, 1], HWC. */
    public float[] rgb() { return rgb; }
    /** 8-bit RGB, HWC. */
    public byte[] rgb8() { return rgb8; }
    public Map<String, String> parameters() { return parameters; }

    public void writePng(Path file) {
        PngWriter.write(file, rgb8, width, height, parameters);
    }

    public BufferedImage toBufferedImage() {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++) {
                int i = (y * width + x) * 3;
                img.setRGB(x, y, (rgb8[i] & 0xFF) << 16 | (rgb8[i + 1] & 0xFF) << 8 | (rgb8[i + 2] & 0xFF));
            }
        return img;
    }
}
