package org.ovis4j.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.core.tensor.Tensor;
import org.ovis4j.testing.Goldens;

/**
 * The tiny Qwen3 text encoder against transformers' float32 forward ({@code vectors/text_encoder_forward}):
 * batch of 2 sequences of 40 ids (28 + max_sequence_length 12), right-padded with 35 and 30 real tokens.
 *
 * <p>Tolerance |a − b| ≤ 1e-4 + 1e-4·|b| (Goldens.assertParity): the reference is float32 and
 * accurate to a few 1e-6 (goldens README 8, checked against float64); our reductions (GEMM blocking,
 * RMSNorm sums in double, online softmax) are ordered differently from PyTorch's, which costs some
 * float32 ulps per reduction, far below the 1e-4 budget but above bitwise equality. A real error
 * (wrong mask, RoPE layout, eps, GQA mapping) moves these O(1) values by ≥ 1e-2.
 */
class TextEncoderForwardTest {
    static final int LENGTH = 40, HIDDEN = 64;
    static final Map<String, Tensor> V = Goldens.read("vectors/text_encoder_forward.safetensors");
    static final Map<String, Double> WORST = new LinkedHashMap<>();

    static TensorStore store;
    static Qwen3Model model;

    @BeforeAll
    static void load() {
        store = TensorStore.openFolder(Goldens.tiny().resolve("text_encoder"));
        model = Qwen3Model.load(store, Qwen3Config.readFolder(Goldens.tiny().resolve("text_encoder")), null);
    }

    @AfterAll
    static void close() {
        store.close();
        WORST.forEach((k, v) -> System.out.printf("text encoder max |diff| %-28s %.3g%n", k, v));
    }

    static int[] ids(int b) {
        long[] all = V.get("in.input_ids").toLongs();
        int[] out = new int[LENGTH];
        for (int i = 0; i < LENGTH; i++) out[i] = Math.toIntExact(all[b * LENGTH + i]);
        return out;
    }

    static long[] mask(int b) {
        return Arrays.copyOfRange(V.get("in.attention_mask").toLongs(), b * LENGTH, (b + 1) * LENGTH);
    }

    static float[] golden(String name, int b, int rows) {
        float[] all = Goldens.floats(V, name);
        int per = all.length / 2;
        return Arrays.copyOfRange(all, b * per, b * per + rows * HIDDEN);
    }

    static void check(String name, float[] expected, float[] actual) {
        double worst = Goldens.assertParity(name, expected, actual);
        WORST.merge(name.replaceAll("\\[\\d\\]", ""), worst, Math::max);
    }

    @Test
    void realTokenCounts() {
        assertEquals(35, OvisTextEncoder.validCount(mask(0)));
        assertEquals(30, OvisTextEncoder.validCount(mask(1)));
    }

    @Test
    void rotaryTableMatches() {
        float[][] rope = Qwen3Model.rotary(model.config(), LENGTH);
        int half = 8;
        // transformers repeats the 8 frequencies twice along the head: [f0..f7, f0..f7]
        float[] cos = new float[LENGTH * 16], sin = new float[LENGTH * 16];
        for (int p = 0; p < LENGTH; p++)
            for (int j = 0; j < 16; j++) {
                cos[p * 16 + j] = rope[0][p * half + j % half];
                sin[p * 16 + j] = rope[1][p * half + j % half];
            }
        check("mid.rotary_emb.0", Goldens.floats(V, "mid.rotary_emb.0"), cos);
        check("mid.rotary_emb.1", Goldens.floats(V, "mid.rotary_emb.1"), sin);
    }

    @Test
    void everyIntermediateMatchesOnAllRows() {
        for (int b = 0; b < 2; b++) {
            int valid = OvisTextEncoder.validCount(mask(b));
            Map<String, float[]> seen = new LinkedHashMap<>();
            model.run(ids(b), LENGTH, valid, (name, values, rows, width) -> seen.put(name, values.clone()));
            for (String name : new String[] {"embed_tokens", "layers.0", "layers.1", "norm"})
                check("mid." + name + "[" + b + "]", golden("mid." + name, b, LENGTH), seen.get(name));
        }
    }

    @Test
    void forwardMatchesLastHiddenStateIncludingPadRows() {
        for (int b = 0; b < 2; b++) {
            int valid = OvisTextEncoder.validCount(mask(b));
            float[] h = model.forward(ids(b), LENGTH, valid);
            check("out.last_hidden_state[" + b + "]", golden("out.last_hidden_state", b, LENGTH), h);
        }
    }

    @Test
    void prefixEqualsTheRealRowsOfTheFullForward() {
        for (int b = 0; b < 2; b++) {
            int valid = OvisTextEncoder.validCount(mask(b));
            float[] full = model.forward(ids(b), LENGTH, valid);
            float[] prefix = model.forwardPrefix(ids(b), valid);
            // row i reads only tokens 0..i, so the values agree; not bit for bit, because the GEMM
            // groups rows in fours and a different row count changes which kernel rounds which row
            Goldens.assertClose("prefix vs full[" + b + "]", Arrays.copyOf(full, valid * HIDDEN), prefix, 1e-5, 1e-5);
            check("out.last_hidden_state real rows[" + b + "]", golden("out.last_hidden_state", b, valid), prefix);
        }
    }

    @Test
    void promptEmbedsMatch() {
        OvisTextEncoder enc = new OvisTextEncoder(model);
        for (int b = 0; b < 2; b++) {
            int valid = OvisTextEncoder.validCount(mask(b));
            float[] pe = enc.encode(ids(b), mask(b));
            assertEquals(12 * HIDDEN, pe.length);
            check("out.prompt_embeds[" + b + "]", golden("out.prompt_embeds", b, 12), pe);
            for (int i = (valid - OvisTextEncoder.PROMPT_START_ROW) * HIDDEN; i < pe.length; i++)
                assertEquals(0f, Math.abs(pe[i]), "pad rows are exactly zero");
            assertArrayEquals(pe, enc.encode(ids(b), valid));
        }
    }

    @Test
    void allPadKeptRowsAreZeroWithoutRunning() {
        OvisTextEncoder enc = new OvisTextEncoder(model);
        assertArrayEquals(new float[12 * HIDDEN], enc.encode(ids(0), 20));
    }

    @Test
    void badInputsAreOneLineErrors() {
        OvisTextEncoder enc = new OvisTextEncoder(model);
        assertThrows(OvisException.class, () -> enc.encode(new int[28], 28));
        long[] holey = mask(0);
        holey[36] = 1;
        OvisException e = assertThrows(OvisException.class, () -> enc.encode(ids(0), holey));
        assertEquals("text encoder: attention mask is not right padding (value 1 at position 36 after a pad)", e.getMessage());
        int[] bad = ids(0);
        bad[3] = 1024;
        e = assertThrows(OvisException.class, () -> model.forward(bad, LENGTH, 35));
        assertEquals("text encoder: token id 1024 at position 3 is outside the vocabulary of 1024", e.getMessage());
        assertThrows(OvisException.class, () -> model.forward(ids(0), LENGTH, 0));
    }
}
