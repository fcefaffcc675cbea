package org.ovis4j.train.text;

import java.nio.file.Path;
import java.util.Arrays;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.text.OvisTextEncoder;
import org.ovis4j.text.Qwen3Config;
import org.ovis4j.text.Qwen3Model;
import org.ovis4j.tokenizer.OvisPrompt;
import org.ovis4j.tokenizer.Qwen3Tokenizer;

/**
 * Does a text encoder tell word order apart (not a test; the pilot's sanity check)? For prompts that differ
 * only in the order of the quoted words (A/B), and, for scale, prompts that differ in one word of the scene
 * (A/C), it prints the cosine distance 1 − cos of the prompt_embeds the pipeline reads (rows 28.., through
 * {@link OvisTextEncoder}): mean-pooled over the rows, and per row averaged over the rows after the quoted
 * words (the same tokens at the same positions in both prompts: they differ only through what the encoder
 * carries from the context). Usage: WordOrderProbe TOKENIZER_DIR (TEXT_ENCODER_DIR | init:CONFIG.json:STD:SEED)...
 */
public final class WordOrderProbe {
    static final String A = "A red sign that says \"OPEN DOOR\"", B = "A red sign that says \"DOOR OPEN\"", C = "A blue sign that says \"OPEN DOOR\"";

    public static void main(String[] args) {
        Qwen3Tokenizer tok = Qwen3Tokenizer.load(Path.of(args[0]).resolve("tokenizer.json"));
        for (int i = 1; i < args.length; i++) {
            Encoder enc = encoder(args[i]);
            float[][] s = {enc.states(tok, A), enc.states(tok, B), enc.states(tok, C)};
            int[] ia = tokens(tok, A), ib = tokens(tok, B);
            // first row after the quoted words: the first position from which both prompts' tokens agree to the end
            int n = ia.length, tail = n;
            while (tail > 0 && ia[tail - 1] == ib[tail - 1]) tail--;
            int hd = enc.hidden(), from = tail - OvisTextEncoder.PROMPT_START_ROW, rows = n - OvisTextEncoder.PROMPT_START_ROW;
            System.out.printf("%s%n  order  A/B: pooled %.4f, shared tail rows (%d) %.4f%n  colour A/C: pooled %.4f, shared tail rows %.4f%n",
                    args[i], 1 - cos(pool(s[0], rows, hd), pool(s[1], rows, hd)), rows - from, tailDistance(s[0], s[1], from, rows, hd),
                    1 - cos(pool(s[0], rows, hd), pool(s[2], rows, hd)), tailDistance(s[0], s[2], from, rows, hd));
        }
    }

    interface Encoder {
        float[] states(Qwen3Tokenizer tok, String prompt);

        int hidden();
    }

    static int[] tokens(Qwen3Tokenizer tok, String p) {
        OvisPrompt.Encoded e = OvisPrompt.encode(tok, p, 256);
        return Arrays.copyOf(e.ids(), e.validTokens());
    }

    static Encoder encoder(String spec) {
        if (spec.startsWith("init:")) {
            String[] f = spec.split(":");
            Qwen3Config cfg = Qwen3Config.read(Path.of(f[1]));
            TrainableQwen3 m = TrainableQwen3.initialised(cfg, Double.parseDouble(f[2]), Long.parseLong(f[3]));
            return new Encoder() {
                public float[] states(Qwen3Tokenizer tok, String p) {
                    int[] ids = tokens(tok, p);
                    float[] out = m.forward(new TextBatch(1, ids.length, ids, new int[] {ids.length})).output();
                    return Arrays.copyOfRange(out, OvisTextEncoder.PROMPT_START_ROW * cfg.hiddenSize(), out.length);
                }

                public int hidden() { return cfg.hiddenSize(); }
            };
        }
        Path dir = Path.of(spec);
        Qwen3Config cfg = Qwen3Config.readFolder(dir);
        OvisTextEncoder te = new OvisTextEncoder(Qwen3Model.load(TensorStore.openFolder(dir), cfg, null));
        return new Encoder() {
            public float[] states(Qwen3Tokenizer tok, String p) {
                OvisPrompt.Encoded e = OvisPrompt.encode(tok, p, 256);
                return te.encode(e.ids(), e.validTokens());
            }

            public int hidden() { return cfg.hiddenSize(); }
        };
    }

    static float[] pool(float[] s, int rows, int hd) {
        float[] p = new float[hd];
        for (int r = 0; r < rows; r++) for (int i = 0; i < hd; i++) p[i] += s[r * hd + i] / rows;
        return p;
    }

    static double tailDistance(float[] a, float[] b, int from, int rows, int hd) {
        double sum = 0;
        for (int r = from; r < rows; r++)
            sum += 1 - cos(Arrays.copyOfRange(a, r * hd, (r + 1) * hd), Arrays.copyOfRange(b, r * hd, (r + 1) * hd));
        return sum / (rows - from);
    }

    static double cos(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }
}
