package org.ovis4j.vae;

import org.ovis4j.core.OvisException;

/**
 * How the decoder splits large latents into overlapping tiles ({@link TiledDecode}): tiles of
 * {@code tile} latents a side, neighbours overlapping by {@code overlap} latents, whose decoded
 * pixels are blended linearly across the overlap. Decoding in tiles bounds the decoder's working
 * memory by the tile size (a full 1024² FLUX decode holds 1 GB feature maps), at the price of
 * more work (the overlaps) and of pixels that differ slightly from a whole decode (each tile's
 * group norms see only the tile).
 */
public record VaeTiling(boolean enabled, int tile, int overlap) {
    /** Never tile: the decode of the reference implementation. */
    public static final VaeTiling OFF = new VaeTiling(false, 0, 0);
    /** Tiles of 64 latents (512 pixels) overlapping by a quarter, for latents larger than one tile. */
    public static final VaeTiling AUTO = new VaeTiling(true, 64, 16);

    public VaeTiling {
        if (enabled && (tile < 2 || overlap < 0 || overlap >= tile))
            throw new OvisException("vae tiling: tile " + tile + " latents with overlap " + overlap + " (need 0 <= overlap < tile, tile >= 2)");
    }

    /** "auto" or "off". */
    public static VaeTiling parse(String s) {
        return switch (s.trim().toLowerCase()) {
            case "auto", "on" -> AUTO;
            case "off" -> OFF;
            default -> throw new OvisException("unknown vae tiling \"" + s + "\" (expected auto or off)");
        };
    }

    /** Whether latents h x w are decoded in tiles. */
    public boolean appliesTo(int h, int w) {
        return enabled && (h > tile || w > tile);
    }

    /** Latents between the starts of two neighbouring tiles. */
    int stride() {
        return tile - overlap;
    }
}
