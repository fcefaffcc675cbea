package org.ovis4j.data.words;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.ovis4j.core.random.SplitMix64;

/**
 * Which (word, object colour, object) combinations are kept out of training, so that evaluation
 * asks for scenes the model has never seen: about one in {@link #ONE_IN}, chosen by a hash of the
 * combination under a fixed seed. A hash (not a drawn list) makes the split a property of the
 * combination alone: the same for every words file that contains the word, every run seed and
 * every sample count, and testable without generating anything.
 */
public final class HeldOutSplit {
    private HeldOutSplit() {}

    /** Named in manifests and prompt files so that a changed split cannot pass unnoticed. */
    public static final String ID = "fnv1a-splitmix-15/16";
    public static final int ONE_IN = 16;
    private static final long SEED = 0x15_0515_0515L;

    public static boolean heldOut(String word, String objectColor, SceneObject object) {
        long h = 0xCBF29CE484222325L; // FNV-1a 64 over the UTF-8 of "word|colour|object"
        for (byte b : (word + "|" + objectColor + "|" + object.id()).getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001B3L;
        }
        return Long.remainderUnsigned(SplitMix64.mix(h ^ SEED), ONE_IN) == 0;
    }

    /** Whether a sample showing these words on this object would reveal a held-out combination. */
    public static boolean anyHeldOut(List<String> words, String objectColor, SceneObject object) {
        for (String w : words) if (heldOut(w, objectColor, object)) return true;
        return false;
    }
}
