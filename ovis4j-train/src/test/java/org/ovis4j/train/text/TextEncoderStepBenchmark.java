package org.ovis4j.train.text;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import org.ovis4j.text.OvisTextEncoder;
import org.ovis4j.text.Qwen3Config;
import org.ovis4j.tokenizer.Qwen3Tokenizer;
import org.ovis4j.train.loss.CausalLmLoss;
import org.ovis4j.train.optim.AdamW;
import org.ovis4j.train.optim.GradClip;

/**
 * Where a text-encoder pretraining step spends its time (not a test): forward, the LM head's loss with the
 * full or the corpus softmax, backward, clipping and AdamW, in process CPU seconds (the machine is shared,
 * so wall time says little). Usage: TextEncoderStepBenchmark CONFIG.json TOKENIZER_DIR SHARDS [batch] [reps].
 */
public final class TextEncoderStepBenchmark {
    private static double cpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }

    public static void main(String[] args) {
        Qwen3Config cfg = Qwen3Config.read(Path.of(args[0]));
        Qwen3Tokenizer tok = Qwen3Tokenizer.load(Path.of(args[1]).resolve("tokenizer.json"));
        List<String> captions = CaptionCorpus.shardCaptions(Path.of(args[2]));
        int batchSize = args.length > 3 ? Integer.parseInt(args[3]) : 16, reps = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        CaptionCorpus corpus = CaptionCorpus.tokenize(captions, tok, 256);
        int[] ids = corpus.ids();
        long tokens = 0;
        for (int i = 0; i < corpus.size(); i++) tokens += corpus.sequence(i).length;
        System.out.printf("%d captions, %d tokens (%.1f per caption), %d distinct ids%n", corpus.size(), tokens, (double) tokens / corpus.size(), ids.length);
        TrainableQwen3 model = TrainableQwen3.initialised(cfg, 0.02, 0);
        AdamW opt = new AdamW(model.parameters(), new AdamW.Hyperparameters(1e-3, 0.9, 0.999, 1e-8, 0.01));
        CausalLmLoss.Vocabulary full = CausalLmLoss.Vocabulary.all(cfg.vocabSize()), sub = CausalLmLoss.Vocabulary.of(cfg.vocabSize(), ids);
        CaptionCorpus.Position at = new CaptionCorpus.Position(0, 0);
        for (int rep = 0; rep < reps; rep++) {
            int[] idx = new int[batchSize];
            at = corpus.next(0, at, idx);
            TextBatch b = corpus.batch(idx);
            int[] targets = b.nextTokenTargets(OvisTextEncoder.PROMPT_START_ROW);
            double t0 = cpu();
            TrainableQwen3.Pass p = model.forward(b);
            double t1 = cpu();
            CausalLmLoss.Result rf = CausalLmLoss.compute(p.output(), b.rows(), cfg.hiddenSize(), targets, model.embedding().value(),
                    model.embedding().grad(), full);
            double t2 = cpu();
            CausalLmLoss.Result rs = CausalLmLoss.compute(p.output(), b.rows(), cfg.hiddenSize(), targets, model.embedding().value(),
                    model.embedding().grad(), sub);
            double t3 = cpu();
            model.backward(p, rs.dHidden());
            double t4 = cpu();
            GradClip.clip(model.parameters().trainable(), 1.0);
            opt.step(1e-3);
            model.parameters().zeroGrad();
            double t5 = cpu();
            System.out.printf("batch %d x %d (%d targets): CPU s  forward %.2f  head full %.2f (loss %.4f)  head corpus %.2f (loss %.4f)  backward %.2f  clip+adamw+zero %.2f%n",
                    b.samples(), b.length(), rf.targets(), t1 - t0, t2 - t1, rf.loss(), t3 - t2, rs.loss(), t4 - t3, t5 - t4);
        }
    }
}
