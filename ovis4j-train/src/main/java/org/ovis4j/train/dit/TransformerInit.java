package org.ovis4j.train.dit;

import java.util.Locale;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.train.data.SeededRandom;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.param.Parameters;

/**
 * Seeded initial values of a model trained from scratch (the transformer; also the VAE, whose
 * convolutions and GroupNorms follow the same torch defaults), set through the parameter walk (so the
 * list of tensors is the model's own, not written out again). Each tensor's values depend only on the
 * seed and its diffusers name, never on the order tensors are visited in.
 *
 * <ul>
 *   <li>{@link Scheme#PYTORCH}: what diffusers' {@code OvisImageTransformer2DModel(...)} starts from, as it
 *       defines no initialisation of its own: torch's module defaults. {@code nn.Linear} draws its weight
 *       with {@code kaiming_uniform_(a=√5)}, i.e. U(−1/√fan_in, 1/√fan_in), and its bias from the same
 *       interval; the RMSNorm weights are ones. (The LayerNorms have no parameters.) {@code nn.Conv2d} is
 *       the same with fan_in = in_channels·kh·kw; {@code nn.GroupNorm} has weight ones and bias zeros.</li>
 *   <li>{@link Scheme#GOLDENS}: the tiny golden checkpoint's draws (goldens README section 3): matrices
 *       N(0, 1/fan_in), norm weights 1 + 0.1·N(0, 1), biases 0.1·N(0, 1) (norm biases too).</li>
 * </ul>
 * Uniforms come from {@link SeededRandom}, normals from {@link GaussianNoise}, each seeded with
 * (seed, hash of the name); they are not the values torch's generator would give.
 */
public final class TransformerInit {
    public enum Scheme {
        PYTORCH, GOLDENS;

        public String id() { return name().toLowerCase(Locale.ROOT); }

        public static Scheme parse(String where, String s) {
            for (Scheme x : values()) if (x.id().equals(s)) return x;
            throw new OvisException(where + ": unknown initialisation \"" + s + "\" (expected pytorch or goldens)");
        }
    }

    /** Purpose word of the initialisation streams. */
    private static final long INIT = 11;

    private TransformerInit() {}

    /** Overwrites every parameter of {@code params} with its initial values. */
    public static void apply(Parameters params, Scheme scheme, long seed) {
        for (Parameter p : params) {
            long[] shape = p.shape();
            String name = p.name();
            float[] v = p.value();
            long stream = SeededRandom.derive(seed, INIT, SeededRandom.hash(name));
            if (name.endsWith(".bias")) {
                String weight = name.substring(0, name.length() - ".bias".length()) + ".weight";
                long[] ws = params.get(weight).shape();
                if (ws.length == 1) { // a norm's shift: torch starts it at zero
                    if (scheme == Scheme.PYTORCH) java.util.Arrays.fill(v, 0f);
                    else normal(v, 0, 0.1, stream);
                } else if (scheme == Scheme.PYTORCH) uniform(v, 1 / Math.sqrt(fanIn(ws)), stream);
                else normal(v, 0, 0.1, stream);
            } else if (shape.length == 2 || shape.length == 4) {
                double fanIn = fanIn(shape);
                if (scheme == Scheme.PYTORCH) uniform(v, 1 / Math.sqrt(fanIn), stream);
                else normal(v, 0, 1 / Math.sqrt(fanIn), stream);
            } else if (shape.length == 1) {
                if (scheme == Scheme.PYTORCH) java.util.Arrays.fill(v, 1f);
                else normal(v, 1, 0.1, stream);
            } else {
                throw new IllegalStateException(name + ": no initialisation rule for shape " + java.util.Arrays.toString(shape));
            }
        }
    }

    /** Inputs per output of a Linear [out, in] or Conv2d [out, in, kh, kw] weight. */
    private static double fanIn(long[] weightShape) {
        double f = 1;
        for (int i = 1; i < weightShape.length; i++) f *= weightShape[i];
        return f;
    }

    /** U(−bound, bound) as torch's {@code uniform_}: bound·(2u − 1). */
    private static void uniform(float[] v, double bound, long seed) {
        SeededRandom r = new SeededRandom(seed);
        for (int i = 0; i < v.length; i++) v[i] = (float) (bound * (2 * r.nextDouble() - 1));
    }

    private static void normal(float[] v, double mean, double std, long seed) {
        float[] z = GaussianNoise.sample(seed, v.length);
        for (int i = 0; i < v.length; i++) v[i] = (float) (mean + std * z[i]);
    }
}
