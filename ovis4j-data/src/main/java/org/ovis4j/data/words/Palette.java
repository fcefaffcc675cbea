package org.ovis4j.data.words;

import java.util.List;
import org.ovis4j.data.render.Colors;
import org.ovis4j.data.render.Rng;

/**
 * The colours a word scene is painted in, each known by the name the engine's colour namer
 * ({@link Colors#nameEn}) gives it, so a caption's colour word is the namer's verdict on the very
 * pixels drawn. Single-word names a small model can tie to a colour; no near neighbours (no "cream"
 * next to "white", no "gold" next to "yellow").
 */
public final class Palette {
    private Palette() {}

    public static final List<String> NAMES = List.of("red", "orange", "yellow", "green", "teal", "blue", "navy",
            "purple", "pink", "brown", "black", "white", "grey");

    /**
     * A shade of the named colour: the reference colour moved by up to {@code spread} per channel,
     * kept only if the namer still gives it the same name (else the reference colour itself).
     */
    public static int shade(String name, Rng rng, int spread) {
        int ref = Colors.named(name);
        for (int attempt = 0; attempt < 16; attempt++) {
            int r = ((ref >> 16) & 255) + rng.between(-spread, spread);
            int g = ((ref >> 8) & 255) + rng.between(-spread, spread);
            int b = (ref & 255) + rng.between(-spread, spread);
            int c = Colors.rgb(r, g, b);
            if (Colors.nameEn(c).equals(name)) return c;
        }
        return ref;
    }
}
