package org.ovis4j.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.ovis4j.checkpoint.StoreWeights;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.testing.Goldens;

/**
 * The tiling arithmetic on a fake decoder whose tiles are known functions of the global pixel
 * position, and the tiled path of the tiny VAE. A blend of two values a·(1 − t) + b·t in float is
 * off by at most a few ulp of max(|a|, |b|); the bounds below allow 1e-5 on values below 10.
 */
class TiledDecodeTest {
    private static final int SCALE = 8, C = 3;

    /** Pixel value of the smooth "image" every fake tile is cut from. */
    static float image(int y, int x, int c) {
        return (float) (Math.sin(y * 0.05 + c) + Math.cos(x * 0.03 - c));
    }

    /** A fake decoder: tile k returns the image plus offset(k), and records the tiles asked for. */
    record Fake(List<int[]> asked, float[] offsets) implements TiledDecode.TileDecoder {
        @Override
        public FeatureMap decode(int y0, int x0, int th, int tw) {
            float off = offsets[asked.size() % offsets.length];
            asked.add(new int[] {y0, x0, th, tw});
            float[] d = new float[th * SCALE * tw * SCALE * C];
            for (int y = 0; y < th * SCALE; y++)
                for (int x = 0; x < tw * SCALE; x++)
                    for (int c = 0; c < C; c++) d[(y * tw * SCALE + x) * C + c] = image(y0 * SCALE + y, x0 * SCALE + x, c) + off;
            return new FeatureMap(d, th * SCALE, tw * SCALE, C);
        }
    }

    @Test
    void tilesCoverTheLatentsAndRebuildAnImageTheyAgreeOn() {
        VaeTiling tiling = new VaeTiling(true, 8, 2);
        for (int[] hw : new int[][] {{8, 8}, {9, 8}, {20, 13}, {14, 33}}) {
            Fake fake = new Fake(new ArrayList<>(), new float[] {0});
            FeatureMap out = TiledDecode.run(hw[0], hw[1], SCALE, C, tiling, fake);
            assertEquals(hw[0] * SCALE, out.h());
            assertEquals(hw[1] * SCALE, out.w());
            int rows = TiledDecode.tiles(hw[0], tiling), cols = TiledDecode.tiles(hw[1], tiling);
            assertEquals(rows * cols, fake.asked().size());
            for (int[] t : fake.asked()) {
                assertTrue(t[2] >= 1 && t[2] <= 8 && t[3] >= 1 && t[3] <= 8, "tile size");
                assertTrue(t[0] + t[2] <= hw[0] && t[1] + t[3] <= hw[1], "tile inside the latents");
            }
            // the last tile reaches the far edge, and no tile is redundant
            int[] last = fake.asked().getLast();
            assertEquals(hw[0], last[0] + last[2]);
            assertEquals(hw[1], last[1] + last[3]);
            if (rows > 1) assertTrue(fake.asked().get((rows - 2) * cols)[0] + 8 < hw[0], "second-to-last row ends before the edge");
            for (int y = 0; y < out.h(); y++)
                for (int x = 0; x < out.w(); x++)
                    for (int c = 0; c < C; c++)
                        assertEquals(image(y, x, c), out.data()[(y * out.w() + x) * C + c], 1e-5, "pixel " + y + "," + x);
        }
    }

    @Test
    void seamsFadeLinearlyFromTheTileAboveToTheTileBelow() {
        // One column of tiles (w within a tile) whose offsets differ: rows of tile 1 that overlap tile 0
        // go from tile 0's offset to tile 1's linearly; the rest of each kept part is its own tile.
        VaeTiling tiling = new VaeTiling(true, 8, 2);
        float[] offsets = {0, 1, 3};
        FeatureMap out = TiledDecode.run(20, 5, SCALE, C, tiling, new Fake(new ArrayList<>(), offsets));
        int stride = 6 * SCALE, blend = 2 * SCALE;
        for (int y = 0; y < out.h(); y++) {
            int tile = Math.min(2, y / stride), inTile = y - tile * stride;
            double expected = tile > 0 && inTile < blend
                    ? offsets[tile - 1] * (1 - (double) inTile / blend) + offsets[tile] * ((double) inTile / blend)
                    : offsets[tile];
            for (int x = 0; x < out.w(); x++)
                for (int c = 0; c < C; c++)
                    assertEquals(image(y, x, c) + expected, out.data()[(y * out.w() + x) * C + c], 1e-5, "row " + y);
        }
    }

    @Test
    void parsingAndWhenItApplies() {
        assertEquals(VaeTiling.AUTO, VaeTiling.parse("auto"));
        assertEquals(VaeTiling.OFF, VaeTiling.parse("OFF"));
        OvisException e = assertThrows(OvisException.class, () -> VaeTiling.parse("sometimes"));
        assertTrue(e.getMessage().contains("auto or off"), e.getMessage());
        assertThrows(OvisException.class, () -> new VaeTiling(true, 8, 8));
        assertFalse(VaeTiling.AUTO.appliesTo(64, 64)); // 512 x 512 pixels: one tile, decoded whole
        assertTrue(VaeTiling.AUTO.appliesTo(128, 128));
        assertTrue(VaeTiling.AUTO.appliesTo(64, 65));
        assertFalse(VaeTiling.OFF.appliesTo(1000, 1000));
        assertEquals(3, TiledDecode.tiles(128, VaeTiling.AUTO)); // 1024 px: tiles at 0, 48, 96 latents
    }

    @Test
    void tinyVaeDecodesWholeWithinOneTileAndTiledBeyond() {
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("vae"))) {
            AutoencoderKL vae = new AutoencoderKL(VaeForwardTest.config(), new StoreWeights(store));
            int l = vae.config().latentChannels();
            float[] small = GaussianNoise.sample(5, l * 4 * 6);
            assertArrayEquals(vae.decode(small, 4, 6), vae.decode(small, 4, 6, VaeTiling.AUTO));
            assertArrayEquals(vae.decode(small, 4, 6), vae.decode(small, 4, 6, new VaeTiling(true, 6, 2)));

            // 10 x 7 latents in tiles of 6 overlapping by 2: tiles start at rows 0, 4 and columns 0, 4.
            // Outside the blends, each kept part is exactly the whole decode of that tile's latents.
            int h = 10, w = 7;
            VaeTiling tiling = new VaeTiling(true, 6, 2);
            float[] z = GaussianNoise.sample(6, l * h * w);
            float[] tiled = vae.decode(z, h, w, tiling);
            int outC = vae.config().outChannels(), outH = 8 * h, outW = 8 * w;
            assertEquals(outC * outH * outW, tiled.length);
            int[][] pure = {{0, 0, 0, 0, 32, 32}, {4, 4, 48, 48, 80, 56}}; // tile start (latents), pixels [y0, x0, y1, x1)
            for (int[] t : pure) {
                int th = Math.min(6, h - t[0]), tw = Math.min(6, w - t[1]);
                float[] crop = new float[l * th * tw];
                for (int c = 0; c < l; c++)
                    for (int y = 0; y < th; y++)
                        for (int x = 0; x < tw; x++) crop[(c * th + y) * tw + x] = z[(c * h + t[0] + y) * w + t[1] + x];
                float[] alone = vae.decode(crop, th, tw);
                for (int c = 0; c < outC; c++)
                    for (int y = t[2]; y < t[4]; y++)
                        for (int x = t[3]; x < t[5]; x++)
                            assertEquals(alone[(c * th * 8 + y - t[0] * 8) * tw * 8 + x - t[1] * 8], tiled[(c * outH + y) * outW + x], 0f,
                                    "pixel " + y + "," + x + " of the tile at " + t[0] + "," + t[1]);
            }
        }
    }
}
