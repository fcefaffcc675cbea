package org.ovis4j.core.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;

class ThreadCountTest {
    @Test
    void wholeNumbersInRangeAreThreadCounts() {
        assertEquals(1, ThreadCount.parse("OVIS4J_THREADS", "1"));
        assertEquals(7, ThreadCount.parse("OVIS4J_THREADS", " 7\n"));
        assertEquals(ThreadCount.MAX, ThreadCount.parse("OVIS4J_THREADS", Integer.toString(ThreadCount.MAX)));
    }

    @Test
    void anythingElseIsAnErrorNamingTheSetting() {
        for (String bad : new String[] {"abc", "0", "-1", "+2", "1.5", "4x", "2 4", "4097", "99999999999", "0x10", "٣"}) {
            OvisException e = assertThrows(OvisException.class, () -> ThreadCount.parse("OVIS4J_THREADS", bad), bad);
            assertEquals("OVIS4J_THREADS=" + bad + " is not a number of threads (expected a whole number from 1 to 4096)", e.getMessage());
        }
    }
}
