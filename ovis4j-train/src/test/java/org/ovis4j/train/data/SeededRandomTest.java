package org.ovis4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SeededRandomTest {
    @Test
    void aSavedStateContinuesTheSameSequence() {
        SeededRandom a = new SeededRandom(42);
        for (int i = 0; i < 17; i++) a.nextLong();
        SeededRandom b = new SeededRandom(a.state());
        for (int i = 0; i < 100; i++) assertEquals(a.nextInt(1 + i), b.nextInt(1 + i));
    }

    @Test
    void nextIntStaysInRangeAndCoversIt() {
        SeededRandom r = new SeededRandom(7);
        for (int bound : new int[] {1, 7, 33, 129}) {
            int[] seen = new int[bound];
            int draws = 200 * bound;
            for (int i = 0; i < draws; i++) seen[r.nextInt(bound)]++;
            // each value expects 200 draws; 5 standard deviations of a binomial(draws, 1/bound) is at most ~71
            for (int v = 0; v < bound; v++) assertTrue(Math.abs(seen[v] - 200) <= 71, "bound " + bound + " value " + v + ": " + seen[v]);
        }
        assertThrows(IllegalArgumentException.class, () -> r.nextInt(0));
    }

    @Test
    void permutationsArePermutationsAndDependOnTheSeed() {
        for (int n : new int[] {1, 7, 33, 129}) {
            int[] p = new SeededRandom(1).permutation(n);
            int[] sorted = p.clone();
            Arrays.sort(sorted);
            for (int i = 0; i < n; i++) assertEquals(i, sorted[i]);
            assertArrayEquals(p, new SeededRandom(1).permutation(n));
        }
        assertNotEquals(Arrays.toString(new SeededRandom(1).permutation(33)), Arrays.toString(new SeededRandom(2).permutation(33)));
    }

    @Test
    void derivedSeedsDifferForEveryWordAndOrder() {
        long base = SeededRandom.derive(5, 0, 1);
        assertNotEquals(base, SeededRandom.derive(5, 0, 2));
        assertNotEquals(base, SeededRandom.derive(5, 1, 1));
        assertNotEquals(base, SeededRandom.derive(6, 0, 1));
        assertNotEquals(SeededRandom.derive(1, 2), SeededRandom.derive(2, 1));
        assertEquals(base, SeededRandom.derive(5, 0, 1));
    }
}
