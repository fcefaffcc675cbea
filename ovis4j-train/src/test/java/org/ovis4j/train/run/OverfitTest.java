package org.ovis4j.train.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.train.data.CachedDataset;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.dit.TransformerBatch;
import org.ovis4j.train.loss.FlowMatching;

/**
 * The whole training loop learns: full fine-tuning of the tiny golden transformer on 8 fixed samples
 * (32x32 images: 4 packed tokens of 64 values each, 24 text rows) for 200 steps of batch 8, AdamW at
 * lr 1e-2, x0 the posterior means (the samples are fixed), every other setting the run's default (σ from
 * the official logit-normal, fresh noise every step, clipping at 1).
 *
 * <p>Measure: the flow-matching loss on a fixed evaluation set, the 8 samples at 64 (σ, ε) pairs (σ
 * spread evenly over (0, 1), ε from a seed the training never uses), before and after training. The
 * untrained model gives 2.24 there; after 200 steps it is 0.63 (x3.6; 0.63–0.66 for any lr from 3e-3 to
 * 3e-2, constant or cosine, so the plateau is the model's, not the schedule's). Why it is reachable:
 * the task is 8 images and captions, i.e. 2,048 target values for each (σ, ε), and the model has
 * 150,336 parameters; AdamW's first steps move every weight by about lr (sign descent, spec 9.3), so
 * 200 steps at 1e-2 can change each weight by O(1), enough to memorise the samples' x0. Why the loss
 * does not go to 0: the target ε − x0 equals (x_t − x0)/σ, so at small σ the model must amplify x_t by
 * up to 1/σ and at σ near 1 invert the noise, which a width-32 network learns only roughly in 200 steps.
 * The test demands a factor of 2.5 (measured 3.6: a 30 % margin for other CPUs' vector widths, which
 * change the rounding and hence the trajectory), and that the training curve itself falls (mean of the
 * last 20 steps under the first 20's over 1.6; measured 2.07). A sign error in any gradient, a wrong
 * optimizer update or a broken data pipeline (wrong pairing of latents and captions, a mis-scaled x0)
 * makes the evaluation loss rise or stall above 2.
 */
class OverfitTest {
    @TempDir Path dir;

    @Test
    void eightSamplesAreLearnedInTwoHundredSteps() throws Exception {
        Path shards = RunFixtures.shards(dir), cache = dir.resolve("cache");
        Map<String, Object> c = RunFixtures.config(RunFixtures.model(dir), shards, cache, dir.resolve("run"));
        RunFixtures.child(c, "optimizer").put("lr", 1e-2);
        c.put("checkpoint_every", 200L);
        try (Trainer t = Trainer.open(RunFixtures.read(dir, "overfit.json", c), false, Trainer.Listener.NONE)) {
            assertEquals(150_336, t.model().parameters().numel(true));
            double before = evaluationLoss(t.model(), cache);
            t.train();
            double after = evaluationLoss(t.model(), cache);
            List<LossLog.Row> rows = t.losses();
            assertEquals(200, rows.size());
            double first = 0, last = 0;
            for (int i = 0; i < 20; i++) {
                first += rows.get(i).loss() / 20;
                last += rows.get(rows.size() - 1 - i).loss() / 20;
            }
            System.out.printf("overfit: evaluation loss %.4f -> %.4f (x%.2f), training loss first 20 steps %.4f, last 20 %.4f (x%.2f)%n",
                    before, after, before / after, first, last, first / last);
            assertTrue(before / after >= 2.5, "evaluation loss fell from " + before + " to " + after + " only");
            assertTrue(first / last >= 1.6, "training loss fell from " + first + " to " + last + " only");
        }
    }

    /** Mean flow-matching loss of the 8 cached samples (posterior means) at 8 draws of (σ, ε) each, σ spread over (0, 1). */
    static double evaluationLoss(TrainableTransformer model, Path cache) {
        int draws = 8;
        try (CachedDataset ds = CachedDataset.open(cache, new CachedDataset.Options(8, 0, CachedDataset.Posterior.MEAN))) {
            int n = ds.tokens(), w = ds.tokenWidth(), t = ds.manifest().maxSequenceLength(), tw = ds.manifest().textWidth();
            float[] x0 = new float[8 * n * w], text = new float[8 * t * tw], ids = ds.positionIds();
            for (int i = 0; i < 8; i++) {
                CachedDataset.Sample s = ds.sample(i);
                System.arraycopy(ds.x0(s, 0), 0, x0, i * n * w, n * w);
                System.arraycopy(s.promptEmbeds(), 0, text, i * t * tw, t * tw);
            }
            double sum = 0;
            for (int d = 0; d < draws; d++) {
                float[] sigma = new float[8];
                for (int i = 0; i < 8; i++) sigma[i] = (float) ((i + (d + 0.5) / draws) / 8);
                float[] noise = GaussianNoise.sample(1000 + d, x0.length);
                float[] xt = FlowMatching.interpolate(x0, noise, sigma), target = FlowMatching.target(x0, noise);
                TransformerBatch b = new TransformerBatch(8, n, t, xt, text, sigma, Arrays.copyOf(ids, t * 3),
                        Arrays.copyOfRange(ids, t * 3, ids.length));
                sum += FlowMatching.loss(model.forward(b, false).prediction(), target);
            }
            return sum / draws;
        }
    }
}
