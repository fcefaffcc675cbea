package org.ovis4j.core.random;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class SplitMix64Test {
    /** The first outputs of the reference C implementation (Vigna's splitmix64.c) for seed 0. */
    @Test
    void matchesTheReferenceSequence() {
        SplitMix64 r = new SplitMix64(0);
        assertEquals(0xE220A8397B1DCDAFL, r.nextLong());
        assertEquals(0x6E789E6AA1B965F4L, r.nextLong());
        assertEquals(0x06C45D188009454FL, r.nextLong());
    }

    @Test
    void stateContinuesTheSequence() {
        SplitMix64 a = new SplitMix64(42);
        for (int i = 0; i < 5; i++) a.nextLong();
        SplitMix64 b = new SplitMix64(a.state());
        for (int i = 0; i < 5; i++) assertEquals(a.nextLong(), b.nextLong());
    }
}
