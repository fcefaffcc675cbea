package org.ovis4j.core.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    /** Every index runs exactly once, for tiny work (helpers usually cancelled before they start) and larger work alike. */
    @Test
    void everyIndexRunsOnce() {
        for (int round = 0; round < 2000; round++) {
            int count = 1 + round % 37;
            AtomicIntegerArray runs = new AtomicIntegerArray(count);
            boolean slow = round % 100 == 0;
            Parallel.forEach(count, i -> {
                runs.incrementAndGet(i);
                if (slow) {
                    long t = System.nanoTime();
                    while (System.nanoTime() - t < 200_000) Thread.onSpinWait();
                }
            });
            for (int i = 0; i < count; i++) assertEquals(1, runs.get(i), "round " + round + " index " + i);
        }
    }

    @Test
    void nestedCallsRunSeriallyInsideATask() {
        AtomicIntegerArray inner = new AtomicIntegerArray(8 * 5);
        Parallel.forEach(8, i -> {
            assertTrue(Parallel.inside());
            Parallel.forEach(5, j -> inner.incrementAndGet(i * 5 + j));
        });
        for (int i = 0; i < inner.length(); i++) assertEquals(1, inner.get(i));
        assertFalse(Parallel.inside());
    }

    @Test
    void aFailingTaskFailsTheCall() {
        IllegalStateException boom = new IllegalStateException("boom");
        for (int at : new int[] {0, 3, 99}) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forEach(100, i -> {
                if (i == at) throw boom;
            }));
            assertSame(boom, e);
        }
        // the pool still works afterwards
        AtomicIntegerArray runs = new AtomicIntegerArray(10);
        Parallel.forEach(10, runs::incrementAndGet);
        for (int i = 0; i < 10; i++) assertEquals(1, runs.get(i));
    }
}
