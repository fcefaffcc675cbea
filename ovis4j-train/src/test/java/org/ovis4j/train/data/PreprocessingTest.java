package org.ovis4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.HashSet;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.train.data.Preprocessing.Crop;
import org.ovis4j.train.data.Preprocessing.Resize;

class PreprocessingTest {
    private static ShardRecord record(String key, byte[] image) {
        return new ShardRecord(0, "shard-000000.tar", 3, key, image, "caption");
    }

    /** HWC bytes → float planes [3, h, w] of 0…255, written out independently of the code under test. */
    private static float[] planes(byte[] rgb, int w, int h) {
        float[] p = new float[3 * w * h];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++) p[(c * h + y) * w + x] = rgb[(y * w + x) * 3 + c] & 0xFF;
        return p;
    }

    private static float[] cropScaled(float[] planes, int pw, int ph, int x0, int y0, int w, int h) {
        float[] out = new float[3 * w * h];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) out[(c * h + y) * w + x] = (float) (planes[(c * ph + y0 + y) * pw + x0 + x] / 127.5 - 1);
        return out;
    }

    @Test
    void anImageOfTheTrainingSizeBecomesItsPixelsInMinusOneToOne() {
        byte[] rgb = TestShards.rgb(32, 16, 4);
        float[] got = new Preprocessing(32, 16, Resize.COVER, Crop.RANDOM, 1).apply(record("k", TestShards.png(32, 16, 4)));
        assertArrayEquals(cropScaled(planes(rgb, 32, 16), 32, 16, 0, 0, 32, 16), got);
        float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
        for (float v : got) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        assertEquals(-1f, lo, "byte 0 is -1");
        assertEquals(1f, hi, "byte 255 is 1");
    }

    @Test
    void aWiderImageIsScaledOntoTheShorterSideThenCentred() {
        // 64x48 onto 32x32: factor 2/3 gives 43x32 (the height fits), then columns 5 … 36 are kept
        byte[] rgb = TestShards.rgb(64, 48, 9);
        float[] got = new Preprocessing(32, 32, Resize.COVER, Crop.CENTER, 0).apply(record("k", TestShards.png(64, 48, 9)));
        float[] resized = Resampler.resize(planes(rgb, 64, 48), 3, 48, 64, 32, 43);
        assertArrayEquals(cropScaled(resized, 43, 32, 5, 0, 32, 32), got);
    }

    @Test
    void cropModeCutsTheTrainingSizeOutOfTheImageUnscaled() {
        // 48x40 cropped to 32x16: centre offsets (8, 12); random ones anywhere in [0, 16] x [0, 24]; the pixels unscaled
        byte[] rgb = TestShards.rgb(48, 40, 5);
        byte[] png = TestShards.png(48, 40, 5);
        float[] p = planes(rgb, 48, 40);
        assertArrayEquals(cropScaled(p, 48, 40, 8, 12, 32, 16), new Preprocessing(32, 16, Resize.CROP, Crop.CENTER, 0).apply(record("k", png)));
        java.util.Set<String> offsets = new java.util.HashSet<>();
        for (int k = 0; k < 40; k++) {
            float[] got = new Preprocessing(32, 16, Resize.CROP, Crop.RANDOM, 7).apply(record("key" + k, png));
            boolean found = false;
            for (int y0 = 0; y0 <= 24 && !found; y0++)
                for (int x0 = 0; x0 <= 16 && !found; x0++)
                    if (java.util.Arrays.equals(cropScaled(p, 48, 40, x0, y0, 32, 16), got)) {
                        found = true;
                        offsets.add(x0 + "," + y0);
                    }
            assertTrue(found, "crop of key" + k + " is a window of the image");
        }
        assertTrue(offsets.size() > 20, "offsets vary with the key: " + offsets.size());
        OvisException e = assertThrows(OvisException.class,
                () -> new Preprocessing(64, 16, Resize.CROP, Crop.CENTER, 0).apply(record("k", png)));
        assertEquals("shard-000000.tar: record 3 (key k): image is 48x40, smaller than the crop 64x16", e.getMessage());
    }

    @Test
    void modelInputOfAWholeImageIsApplyAtItsOwnSize() {
        byte[] rgb = TestShards.rgb(32, 16, 2);
        float[] viaApply = new Preprocessing(32, 16, Resize.OFF, Crop.CENTER, 0).apply(record("k", TestShards.png(32, 16, 2)));
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(32, 16, java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 32; x++) {
                int i = (y * 32 + x) * 3;
                img.setRGB(x, y, (rgb[i] & 0xFF) << 16 | (rgb[i + 1] & 0xFF) << 8 | (rgb[i + 2] & 0xFF));
            }
        assertArrayEquals(viaApply, Preprocessing.modelInput(img));
    }

    @Test
    void aRandomCropDependsOnTheSeedAndTheKeyOnly() {
        byte[] rgb = TestShards.rgb(64, 48, 2), png = TestShards.png(64, 48, 2);
        float[] resized = Resampler.resize(planes(rgb, 64, 48), 3, 48, 64, 32, 43);
        Set<Integer> offsets = new HashSet<>();
        for (int k = 0; k < 12; k++) {
            String key = String.format("%06d", k);
            float[] got = new Preprocessing(32, 32, Resize.COVER, Crop.RANDOM, 7).apply(record(key, png));
            assertArrayEquals(got, new Preprocessing(32, 32, Resize.COVER, Crop.RANDOM, 7).apply(record(key, png)), "same seed and key");
            int found = -1;
            for (int x0 = 0; x0 <= 11 && found < 0; x0++)
                if (java.util.Arrays.equals(cropScaled(resized, 43, 32, x0, 0, 32, 32), got)) found = x0;
            assertTrue(found >= 0, key + ": not a 32x32 window of the resized image");
            offsets.add(found);
        }
        assertTrue(offsets.size() >= 3, "12 keys gave only the offsets " + offsets);
    }

    @Test
    void greyImagesKeepTheirValues() throws Exception {
        BufferedImage g = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
        byte[] v = new byte[256];
        for (int i = 0; i < 256; i++) v[i] = (byte) i;
        g.getRaster().setDataElements(0, 0, 16, 16, v);
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ImageIO.write(g, "png", bos);
        float[] got = new Preprocessing(16, 16, Resize.OFF, Crop.CENTER, 0).apply(record("g", bos.toByteArray()));
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 256; i++) assertEquals((float) (i / 127.5 - 1), got[c * 256 + i], "channel " + c + " pixel " + i);
    }

    @Test
    void badImagesAreOneLineErrorsNamingTheRecord() {
        OvisException e = assertThrows(OvisException.class,
                () -> new Preprocessing(32, 32, Resize.OFF, Crop.CENTER, 0).apply(record("000007", TestShards.png(64, 48, 0))));
        assertEquals("shard-000000.tar: record 3 (key 000007): image is 64x48, the training size is 32x32 and resizing is off", e.getMessage());
        e = assertThrows(OvisException.class,
                () -> new Preprocessing(32, 32, Resize.COVER, Crop.CENTER, 0).apply(record("000008", "not an image".getBytes())));
        assertEquals("shard-000000.tar: record 3 (key 000008): image does not decode (not a PNG or JPEG file)", e.getMessage());
        e = assertThrows(OvisException.class, () -> new Preprocessing(40, 32, Resize.COVER, Crop.CENTER, 0));
        assertTrue(e.getMessage().startsWith("training size must be a positive multiple of 16"), e.getMessage());
    }
}
