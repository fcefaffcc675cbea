package org.ovis4j.train.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ovis4j.core.OvisException;
import org.ovis4j.train.param.Parameter;

/**
 * Checkpoints and resuming: a run interrupted after a checkpoint and resumed ends with the same bits as
 * the uninterrupted run (weights, both AdamW moments and its step, EMA shadows, loss curve, the final
 * checkpoint's files byte for byte), with every source of randomness on (prompt dropout, logit-normal σ,
 * posterior sampling, batches that straddle epochs) and a schedule that depends on the step. Also when
 * the process dies in the middle of a checkpoint write (the previous checkpoint is used), and a full disk
 * is a one-line error that leaves the previous checkpoint as it was.
 */
class ResumeTest {
    @TempDir static Path shared;
    static Path cache;
    /** This test's folder, inside the class's: checkpoints link to the model copy there (links kept inside one temporary folder). */
    Path dir;

    @org.junit.jupiter.api.BeforeEach
    void folder(org.junit.jupiter.api.TestInfo info) throws IOException {
        dir = Files.createDirectories(shared.resolve(info.getTestMethod().orElseThrow().getName()));
    }

    /** Stands for the process dying: not an exception the trainer handles, so nothing is cleaned up. */
    static final class Killed extends Error {
        Killed() {
            super("killed");
        }
    }

    /** Stops a run right after a checkpoint, as an interruption between two steps would. */
    static final class Stop extends RuntimeException {}

    @BeforeAll
    static void buildCache() throws IOException {
        cache = shared.resolve("cache");
        Map<String, Object> c = RunFixtures.config(RunFixtures.model(shared), RunFixtures.shards(shared), cache, shared.resolve("warmup"));
        c.put("steps", 1L);
        try (Trainer t = Trainer.open(RunFixtures.read(shared, "build.json", c), false, Trainer.Listener.NONE)) {
            t.train();
        }
    }

    /** 12 steps of batch 3 over 8 samples, checkpoints every 3, everything random switched on. */
    static Map<String, Object> config(Path output, boolean lora) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model", RunFixtures.model(shared).toString());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("cache", cache.toString());
        data.put("posterior", "sample");
        c.put("data", data);
        if (lora) {
            c.put("mode", "lora");
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("rank", 4L);
            l.put("alpha", 8L);
            l.put("target_modules", List.of("to_q", "to_k", "to_v", "attn.to_out.0", "proj_mlp"));
            c.put("lora", l);
        }
        c.put("batch_size", 3L);
        c.put("steps", 12L);
        c.put("optimizer", new LinkedHashMap<>(Map.of("lr", 3e-3, "weight_decay", 0.01)));
        c.put("schedule", new LinkedHashMap<>(Map.of("name", "cosine", "warmup_steps", 2L)));
        c.put("max_grad_norm", 0.5);
        c.put("ema", new LinkedHashMap<>(Map.of("decay", 0.999, "schedule", "diffusers")));
        c.put("sigma_sampling", new LinkedHashMap<>(Map.of("density", "logit_normal")));
        c.put("prompt_dropout", 0.3);
        c.put("seed", 123L);
        c.put("checkpoint_every", 3L);
        c.put("output", output.toString());
        return c;
    }

    private TrainConfig read(String name, Map<String, Object> c) throws IOException {
        return RunFixtures.read(dir, name, c);
    }

    private static Trainer uninterrupted(TrainConfig cfg) {
        Trainer t = Trainer.open(cfg, false, Trainer.Listener.NONE);
        t.train();
        return t;
    }

    private static Trainer.Listener stopAt(long step) {
        return new Trainer.Listener() {
            @Override public void onCheckpoint(long s, Path d) {
                if (s == step) throw new Stop();
            }
        };
    }

    @Test
    void fullFineTuningResumesBitForBit() throws IOException {
        resumesBitForBit(false);
    }

    @Test
    void loraResumesBitForBit() throws IOException {
        resumesBitForBit(true);
    }

    /**
     * bf16 compute: the resumed run's copies are made from the checkpoint's masters, so it too continues bit
     * for bit; and its loss curve stays the float32 run's within 2% while its weights are not the same bits
     * (observed 1.2e-3: one step's loss moves by 2.4e-4 in bf16, Bf16ComputeTest, and the two runs' weights
     * drift apart over 12 steps at lr 3e-3; the forward chain's worst case, 14 products of 2⁻⁸, is 5.5%).
     */
    @Test
    void bf16ComputeResumesBitForBit() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(org.ovis4j.train.optim.ComputeWeights.of(
                org.ovis4j.train.optim.ComputePrecision.BF16, s -> {}).precision() == org.ovis4j.train.optim.ComputePrecision.BF16,
                "no bf16 matmul here (Bf16ComputeTest checks the fallback)");
        Path a = dir.resolve("a"), b = dir.resolve("b"), f = dir.resolve("f");
        Map<String, Object> ca = config(a, false), cb = config(b, false);
        ca.put("compute_precision", "bf16");
        cb.put("compute_precision", "bf16");
        try (Trainer whole = uninterrupted(read("a.json", ca)); Trainer fp32 = uninterrupted(read("f.json", config(f, false)))) {
            TrainConfig tb = read("b.json", cb);
            try (Trainer first = Trainer.open(tb, false, stopAt(6))) {
                assertThrows(Stop.class, first::train);
            }
            try (Trainer resumed = Trainer.open(tb, true, Trainer.Listener.NONE)) {
                resumed.train();
                assertSameRun(whole, resumed);
            }
            assertSameFiles(a.resolve("step-000012"), b.resolve("step-000012"));
            var l16 = whole.losses();
            var l32 = fp32.losses();
            assertEquals(l32.size(), l16.size());
            double worst = 0;
            for (int i = 0; i < l32.size(); i++) {
                assertEquals(l32.get(i).loss(), l16.get(i).loss(), 0.02 * l32.get(i).loss(), "step " + (i + 1) + " loss");
                worst = Math.max(worst, Math.abs(l16.get(i).loss() - l32.get(i).loss()) / l32.get(i).loss());
            }
            System.out.printf("bf16 run: worst relative loss difference to the fp32 run over %d steps %.3g%n", l32.size(), worst);
            assertFalse(java.util.Arrays.equals(fp32.model().parameters().get("proj_out.weight").value(),
                    whole.model().parameters().get("proj_out.weight").value()), "bf16 products train other bits");
        }
    }

    private void resumesBitForBit(boolean lora) throws IOException {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        try (Trainer whole = uninterrupted(read("a.json", config(a, lora)))) {
            TrainConfig cb = read("b.json", config(b, lora));
            try (Trainer first = Trainer.open(cb, false, stopAt(6))) {
                assertThrows(Stop.class, first::train);
                assertEquals(6, first.step());
            }
            assertEquals("step-000006", Files.readString(b.resolve("latest")).strip());
            try (Trainer resumed = Trainer.open(cb, true, Trainer.Listener.NONE)) {
                assertEquals(6, resumed.step());
                resumed.train();
                assertSameRun(whole, resumed);
            }
            assertSameFiles(a.resolve("step-000012"), b.resolve("step-000012"));
            assertEquals(Files.readString(a.resolve("loss.csv")), Files.readString(b.resolve("loss.csv")));
            assertTrue(Files.size(b.resolve("loss.png")) > 1000);
        }
    }

    /** A process killed while writing checkpoint 9 (after its weights, before its optimizer state): resumed from 6. */
    @Test
    void killedDuringACheckpointWriteResumesFromThePreviousOne() throws IOException {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        try (Trainer whole = uninterrupted(read("a.json", config(a, false)))) {
            TrainConfig cb = read("b.json", config(b, false));
            RunFolder.Faults kill = file -> {
                if (file.getFileName().toString().equals(RunLoop.OPTIMIZER) && file.getParent().getFileName().toString().startsWith("step-000009"))
                    throw new Killed();
            };
            try (Trainer first = Trainer.open(cb, false, Trainer.Listener.NONE, kill)) {
                assertThrows(Killed.class, first::train);
            }
            assertTrue(Files.isDirectory(b.resolve("step-000009.tmp")), "the interrupted write is left as it was");
            assertTrue(Files.isRegularFile(b.resolve("step-000009.tmp/transformer/diffusion_pytorch_model.safetensors")));
            assertEquals("step-000006", Files.readString(b.resolve("latest")).strip());
            try (Trainer resumed = Trainer.open(cb, true, Trainer.Listener.NONE)) {
                assertEquals(6, resumed.step());
                assertFalse(Files.exists(b.resolve("step-000009.tmp")), "unfinished checkpoint removed on resume");
                resumed.train();
                assertSameRun(whole, resumed);
            }
            assertSameFiles(a.resolve("step-000012"), b.resolve("step-000012"));
        }
    }

    /** Killed after checkpoint 9 was renamed but before "latest" named it: 6 is resumed and 9 written again. */
    @Test
    void killedBeforeTheLatestPointerMovedResumesFromThePreviousOne() throws IOException {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        try (Trainer whole = uninterrupted(read("a.json", config(a, true)))) {
            TrainConfig cb = read("b.json", config(b, true));
            RunFolder.Faults kill = file -> {
                if (file.getFileName().toString().equals(RunFolder.LATEST) && Files.isDirectory(file.resolveSibling("step-000009")))
                    throw new Killed();
            };
            try (Trainer first = Trainer.open(cb, false, Trainer.Listener.NONE, kill)) {
                assertThrows(Killed.class, first::train);
            }
            assertTrue(Files.isRegularFile(b.resolve("step-000009/state.json")));
            assertEquals("step-000006", Files.readString(b.resolve("latest")).strip());
            try (Trainer resumed = Trainer.open(cb, true, Trainer.Listener.NONE)) {
                assertEquals(6, resumed.step());
                resumed.train();
                assertSameRun(whole, resumed);
            }
            assertSameFiles(a.resolve("step-000009"), b.resolve("step-000009"));
        }
    }

    /** No space left while writing checkpoint 9: one line, nothing of 9 left, 6 intact and resumable. */
    @Test
    void aFullDiskIsOneLineAndKeepsThePreviousCheckpoint() throws IOException {
        Path b = dir.resolve("b");
        TrainConfig cb = read("b.json", config(b, false));
        RunFolder.Faults full = file -> {
            if (file.getFileName().toString().equals(RunLoop.EMA) && file.getParent().getFileName().toString().startsWith("step-000009"))
                throw new IOException("No space left on device");
        };
        byte[] before;
        try (Trainer first = Trainer.open(cb, false, stopAt(6), full)) {
            assertThrows(Stop.class, first::train);
        }
        before = Files.readAllBytes(b.resolve("step-000006/optimizer.safetensors"));
        try (Trainer resumed = Trainer.open(cb, true, Trainer.Listener.NONE, full)) {
            OvisException e = assertThrows(OvisException.class, resumed::train);
            assertEquals(b.toAbsolutePath().normalize().resolve("step-000009") + ": checkpoint not written (No space left on device); "
                    + "the last checkpoint is step-000006", e.getMessage());
        }
        assertFalse(Files.exists(b.resolve("step-000009.tmp")));
        assertFalse(Files.exists(b.resolve("step-000009")));
        assertEquals("step-000006", Files.readString(b.resolve("latest")).strip());
        assertArrayEquals(before, Files.readAllBytes(b.resolve("step-000006/optimizer.safetensors")));
        try (Trainer again = Trainer.open(cb, true, Trainer.Listener.NONE)) {
            assertEquals(6, again.step());
            again.train();
            assertEquals(12, again.step());
        }
    }

    @Test
    void resumingWithAnotherConfigNamesTheKey() throws IOException {
        Path b = dir.resolve("b");
        try (Trainer first = Trainer.open(read("b.json", config(b, false)), false, stopAt(3))) {
            assertThrows(Stop.class, first::train);
        }
        Map<String, Object> changed = config(b, false);
        RunFixtures.child(changed, "optimizer").put("lr", 1e-3);
        TrainConfig other = read("changed.json", changed);
        OvisException e = assertThrows(OvisException.class, () -> Trainer.open(other, true, Trainer.Listener.NONE));
        assertEquals(dir.resolve("changed.json") + ": differs from the run being resumed in " + b.toAbsolutePath().normalize()
                + " (\"optimizer.lr\" was 0.003, now 0.001); resume with the same config or train into another output folder", e.getMessage());
        // where and how often to write may change
        Map<String, Object> moved = config(b, false);
        moved.put("checkpoint_every", 5L);
        try (Trainer t = Trainer.open(read("moved.json", moved), true, Trainer.Listener.NONE)) {
            assertEquals(3, t.step());
        }
        e = assertThrows(OvisException.class, () -> Trainer.open(read("b.json", config(b, false)), false, Trainer.Listener.NONE));
        assertTrue(e.getMessage().endsWith("holds a run (latest checkpoint step-000003); pass --resume to continue it, or choose another output folder"),
                e.getMessage());
        e = assertThrows(OvisException.class, () -> Trainer.open(read("c.json", config(dir.resolve("c"), false)), true, Trainer.Listener.NONE));
        assertTrue(e.getMessage().endsWith("no checkpoint to resume from (no \"latest\" file)"), e.getMessage());
    }

    /** A diverging run (an absurd learning rate) stops at the first non-finite loss, naming the step; the last good checkpoint stays latest. */
    @Test
    void aNonFiniteLossStopsTheRunAndKeepsTheLastGoodCheckpoint() throws IOException {
        Path b = dir.resolve("b");
        Map<String, Object> c = config(b, false);
        c.put("checkpoint_every", 1L);
        c.put("max_grad_norm", 0L);
        c.put("schedule", new LinkedHashMap<>(Map.of("name", "constant")));
        RunFixtures.child(c, "optimizer").put("lr", 1e30);
        List<Long> checkpoints = new java.util.ArrayList<>();
        try (Trainer t = Trainer.open(read("nan.json", c), false, new Trainer.Listener() {
            @Override public void onCheckpoint(long step, Path d) {
                checkpoints.add(step);
            }
        })) {
            OvisException e = assertThrows(OvisException.class, t::train);
            long bad = checkpoints.size() + 1;
            assertTrue(e.getMessage().matches("step " + bad + ": the (loss|gradient norm) is (NaN|Infinity|-Infinity); training stopped, "
                    + "the last good checkpoint is " + java.util.regex.Pattern.quote(b.toAbsolutePath().normalize().resolve(RunFolder.name(bad - 1)).toString())),
                    e.getMessage());
            assertEquals(RunFolder.name(bad - 1), Files.readString(b.resolve("latest")).strip());
            assertEquals(bad - 1, t.step());
            System.out.println("diverging run: " + e.getMessage());
        }
    }

    static void assertSameRun(Trainer a, Trainer b) {
        assertEquals(a.step(), b.step());
        assertEquals(a.optimizer().steps(), b.optimizer().steps());
        assertEquals(a.losses(), b.losses());
        int n = 0;
        for (Parameter p : a.model().parameters()) {
            Parameter q = b.model().parameters().get(p.name());
            // A frozen weight used in place is the checkpoint's own tensor in both runs: nothing to compare.
            if (p.stored() == null) assertBits(p.name(), p.value(), q.value());
            if (p.trainable()) {
                assertBits("exp_avg." + p.name(), a.optimizer().expAvg(p.name()), b.optimizer().expAvg(p.name()));
                assertBits("exp_avg_sq." + p.name(), a.optimizer().expAvgSq(p.name()), b.optimizer().expAvgSq(p.name()));
                assertBits("ema." + p.name(), a.ema().shadow(p.name()), b.ema().shadow(p.name()));
                n++;
            }
        }
        assertTrue(n > 0);
        assertEquals(a.ema().updates(), b.ema().updates());
    }

    static void assertBits(String what, float[] x, float[] y) {
        assertEquals(x.length, y.length, what);
        for (int i = 0; i < x.length; i++)
            if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i]))
                throw new AssertionError(what + "[" + i + "]: " + x[i] + " vs " + y[i]);
    }

    /** Every regular file under two checkpoint folders, byte for byte (links compared by target). */
    static void assertSameFiles(Path x, Path y) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.walk(x)) {
            files = s.filter(p -> !p.equals(x)).map(x::relativize).sorted().toList();
        }
        try (Stream<Path> s = Files.walk(y)) {
            assertEquals(files, s.filter(p -> !p.equals(y)).map(y::relativize).sorted().toList());
        }
        for (Path f : files) {
            Path px = x.resolve(f), py = y.resolve(f);
            if (Files.isSymbolicLink(px)) assertEquals(Files.readSymbolicLink(px), Files.readSymbolicLink(py), f.toString());
            else if (Files.isRegularFile(px, LinkOption.NOFOLLOW_LINKS))
                assertArrayEquals(Files.readAllBytes(px), Files.readAllBytes(py), f.toString());
        }
    }
}
