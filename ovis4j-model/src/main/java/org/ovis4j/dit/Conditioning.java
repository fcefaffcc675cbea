package org.ovis4j.dit;

/**
 * SiLU of the timestep conditioning vector for each distinct σ of a batch, and which one each
 * sample uses: every AdaLN modulation is one multiply over the distinct vectors, and sample s reads
 * row {@code row[s]} of it. Samples that share a σ (the two branches of classifier-free guidance)
 * share one vector, computed once, exactly as a batch with a single σ.
 */
record Conditioning(float[] silu, int distinct, int[] row) {
    /** Row of sample s in a modulation of {@code width} values per distinct σ: its first element. */
    int offset(int s, int width) {
        return row[s] * width;
    }
}
