package org.ovis4j.train.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.junit.jupiter.api.Test;

/** Values worked out by hand from diffusers' formulas (optimization.py) at chosen steps. */
class LearningRateScheduleTest {
    @Test
    void constant() {
        LearningRateSchedule s = LearningRateSchedule.named("constant", 100, 1000);
        for (long k : new long[] {0, 1, 99, 100, 10_000}) assertEquals(1.0, s.factor(k));
        assertEquals(3e-4, s.rate(3e-4, 7));
    }

    @Test
    void constantWithWarmup() {
        LearningRateSchedule s = LearningRateSchedule.named("constant_with_warmup", 4, 0);
        assertEquals(0.0, s.factor(0)); // the first optimizer step runs at rate 0, as with torch's LambdaLR
        assertEquals(0.25, s.factor(1));
        assertEquals(0.75, s.factor(3));
        assertEquals(1.0, s.factor(4));
        assertEquals(1.0, s.factor(1_000_000));
        assertEquals(1.0, new LearningRateSchedule.ConstantWithWarmup(0).factor(0)); // no warmup: full rate at once
        assertEquals(2.5e-5, s.rate(1e-4, 1), 0);
    }

    @Test
    void cosineWithWarmup() {
        // warmup 10 of 110 steps, half a cosine over the remaining 100
        LearningRateSchedule s = LearningRateSchedule.named("cosine", 10, 110);
        assertInstanceOf(LearningRateSchedule.CosineWithWarmup.class, s);
        assertEquals(0.0, s.factor(0));
        assertEquals(0.5, s.factor(5));
        assertEquals(1.0, s.factor(10), 0); // progress 0: ½(1 + cos 0)
        assertEquals(0.5 * (1 + Math.cos(Math.PI / 4)), s.factor(35), 1e-16); // progress 1/4: 0.853553...
        assertEquals(0.8535533905932737, s.factor(35), 1e-15);
        assertEquals(0.5, s.factor(60), 1e-15); // progress 1/2: cos(π/2) = 0
        assertEquals(0.0, s.factor(110), 1e-16); // progress 1: cos π = −1
        // past the end diffusers does not clamp the progress: the cosine comes back up (progress 1.9)
        assertEquals(0.5 * (1 + Math.cos(0.1 * Math.PI)), s.factor(200), 1e-15);
        LearningRateSchedule two = new LearningRateSchedule.CosineWithWarmup(0, 100, 1.0);
        assertEquals(0.0, two.factor(50), 1e-16);
        assertEquals(1.0, two.factor(100), 1e-15);
    }

    @Test
    void unknownNameIsOneLine() {
        AdamWTest.assertMessage(() -> LearningRateSchedule.named("linear", 0, 10), "unknown learning-rate schedule \"linear\"");
    }
}
