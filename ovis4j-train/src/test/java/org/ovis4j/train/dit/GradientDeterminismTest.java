package org.ovis4j.train.dit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.ovis4j.dit.PositionEmbedding;
import org.ovis4j.dit.TransformerConfig;
import org.ovis4j.train.loss.FlowMatching;
import org.ovis4j.train.param.Parameter;
import org.ovis4j.train.testing.TrainingGoldens;

/**
 * A training step gives the same bits whatever the thread count and however the code is run (resumed
 * runs and gradient checkpointing rely on it): every reduction has an order fixed by the shapes alone.
 * The pool's size is fixed per JVM, so other thread counts run in child JVMs that print a digest of the
 * prediction and of every gradient. A random model wide enough for the kernels to split their work
 * (rows of 8 heads x 16, 2 x 220 tokens) is checked with 1 and 2 threads; the tiny golden model also
 * interpreted (-Xint), against this JVM's compiled code.
 */
class GradientDeterminismTest {
    static final TransformerConfig WIDE = new TransformerConfig(64, 64, 1, 1, 16, 8, 64, new int[] {4, 6, 6});

    /** WIDE with seeded random values drawn as the goldens' (through the parameter walk). */
    private static TrainableTransformer wide() {
        TrainableTransformer m = new TrainableTransformer(WIDE, TrainableTransformer.Source.ZEROS, true, Adapters.NONE);
        TransformerInit.apply(m.parameters(), TransformerInit.Scheme.GOLDENS, 3);
        return m;
    }

    static String digest(String which) {
        boolean tiny = which.equals("tiny");
        TrainableTransformer model = tiny ? TrainableTransformer.load(TrainingGoldens.tinyModel()) : wide();
        int b = 2, gh = tiny ? 2 : 10, gw = tiny ? 3 : 20, t = tiny ? 5 : 20, n = gh * gw;
        Random r = new Random(9);
        float[] x0 = new float[b * n * 64], noise = new float[x0.length], text = new float[b * t * 64];
        for (int i = 0; i < x0.length; i++) {
            x0[i] = (float) r.nextGaussian();
            noise[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < text.length; i++) text[i] = (float) r.nextGaussian();
        float[] sigmas = {0.3f, 0.9f}, ids = PositionEmbedding.ids(t, gh, gw);
        TransformerBatch batch = new TransformerBatch(b, n, t, FlowMatching.interpolate(x0, noise, sigmas), text, sigmas,
                Arrays.copyOf(ids, t * 3), Arrays.copyOfRange(ids, t * 3, ids.length));
        TransformerPass pass = model.forward(batch, false);
        InputGradients in = model.backward(pass, FlowMatching.lossGradient(pass.prediction(), FlowMatching.target(x0, noise)));
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            List<float[]> all = new ArrayList<>(List.of(pass.prediction(), in.latents(), in.text()));
            for (Parameter p : model.parameters()) all.add(p.grad());
            for (float[] a : all) {
                ByteBuffer buf = ByteBuffer.allocate(4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
                buf.asFloatBuffer().put(a);
                md.update(buf.array());
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void main(String[] args) {
        System.out.println("digest " + digest(args[0]));
    }

    @Test
    void sameBitsForAnyThreadCountAndRun() throws Exception {
        String wide = digest("wide"), tiny = digest("tiny");
        for (int i = 0; i < 3; i++) digest("wide"); // let the JIT compile the kernels
        assertEquals(wide, digest("wide"), "a later run in this JVM");
        assertEquals(tiny, digest("tiny"), "a later run in this JVM");
        assertEquals(wide, child("1", false, "wide"), "1 thread");
        assertEquals(wide, child("2", false, "wide"), "2 threads");
        assertEquals(tiny, child("2", true, "tiny"), "2 threads, interpreted");
    }

    private static String child(String threads, boolean interpreted, String which) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Dovis4j.threads=" + threads));
        if (interpreted) cmd.add("-Xint");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), GradientDeterminismTest.class.getName(), which));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "child JVM timed out");
        assertEquals(0, p.exitValue(), output);
        return output.lines().filter(l -> l.startsWith("digest ")).map(l -> l.substring(7)).findFirst()
                .orElseThrow(() -> new AssertionError("no digest from child: " + output));
    }
}
