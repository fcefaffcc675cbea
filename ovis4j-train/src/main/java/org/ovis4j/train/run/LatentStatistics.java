package org.ovis4j.train.run;

import java.nio.file.Path;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.train.data.Preprocessing;
import org.ovis4j.train.data.SeededRandom;
import org.ovis4j.train.data.ShardRecord;
import org.ovis4j.train.data.ShardSet;
import org.ovis4j.train.data.ShardStream;
import org.ovis4j.vae.AutoencoderKL;
import org.ovis4j.vae.LatentDistribution;

/**
 * The mean and standard deviation of a trained encoder's latents over images, from which a VAE's
 * {@code shift_factor} (the mean) and {@code scaling_factor} (1/std) are set, as FLUX.1's were chosen,
 * so the transformer sees latents (z − shift)·scale of zero mean and unit variance. The latents are
 * posterior samples z = mean + std·ε (what the latent cache trains the transformer on by default),
 * pooled over all channels and positions (one scalar each, as diffusers' config holds); the images are
 * the first {@code images} records of the shards in stream order, centre-cropped, ε seeded per image.
 * Sums are in double.
 */
record LatentStatistics(long images, long values, double mean, double std) {
    /** Purpose word of the ε streams. */
    private static final long STATS = 21;

    double scalingFactor() { return 1 / std; }

    static LatentStatistics measure(AutoencoderKL vae, Path shards, int count, int width, int height, long seed) {
        Preprocessing prep = new Preprocessing(width, height, Preprocessing.Resize.CROP, Preprocessing.Crop.CENTER, seed);
        double sum = 0, sumSq = 0;
        long n = 0, done = 0;
        try (ShardStream stream = new ShardStream(ShardSet.open(shards), new ShardStream.Options(seed, 1, false, true), 1)) {
            for (ShardRecord r; done < count && (r = stream.next()) != null; done++) {
                LatentDistribution d = vae.encode(prep.apply(r), height, width);
                float[] z = d.sample(GaussianNoise.sample(SeededRandom.derive(seed, STATS, done), d.mean().length));
                for (float v : z) {
                    sum += v;
                    sumSq += (double) v * v;
                }
                n += z.length;
            }
        }
        if (done == 0) throw new OvisException(shards + ": no images for the latent statistics");
        double mean = sum / n, var = Math.max(0, sumSq / n - mean * mean);
        if (!(var > 0)) throw new OvisException("latent statistics: the latents over " + done + " images have no variance");
        return new LatentStatistics(done, n, mean, Math.sqrt(var));
    }
}
