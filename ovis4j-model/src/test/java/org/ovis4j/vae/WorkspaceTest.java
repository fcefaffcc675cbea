package org.ovis4j.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.ovis4j.checkpoint.StoreWeights;
import org.ovis4j.core.random.GaussianNoise;
import org.ovis4j.core.safetensors.TensorStore;
import org.ovis4j.testing.Goldens;

/** Activation reuse in the VAE: what a decode hands back is what the next one takes, and reuse does not change results. */
class WorkspaceTest {
    @Test
    void givenArraysAreTakenAgainBySize() {
        Workspace ws = new Workspace();
        float[] a = ws.take(12), b = ws.take(12);
        assertNotSame(a, b);
        ws.give(a);
        assertSame(a, ws.take(12));
        assertEquals(12, ws.take(12).length);
        assertEquals(3, ws.created());
        ws.give(b);
        assertEquals(7, ws.take(7).length); // another size is not served from b
        assertSame(b, ws.take(12));
    }

    @Test
    void aSecondDecodeReusesEveryActivationOfTheFirst() {
        try (TensorStore store = TensorStore.openFolder(Goldens.tiny().resolve("vae"))) {
            AutoencoderKL vae = new AutoencoderKL(VaeForwardTest.config(), new StoreWeights(store));
            int h = 5, w = 7;
            float[] z = GaussianNoise.sample(3, vae.config().latentChannels() * h * w);
            Workspace ws = new Workspace();
            FeatureMap first = vae.decoder().forward(FeatureMap.fromChw(z, vae.config().latentChannels(), h, w), Probe.NONE, ws);
            int afterFirst = ws.created();
            assertTrue(afterFirst > 5, "the first decode allocates its activations");
            FeatureMap second = vae.decoder().forward(FeatureMap.fromChw(z, vae.config().latentChannels(), h, w), Probe.NONE, ws);
            // only the output, which belongs to the caller, is new (unless its size matches a pooled one)
            assertTrue(ws.created() - afterFirst <= 1, (ws.created() - afterFirst) + " arrays allocated by the second decode");
            assertArrayEquals(first.data(), second.data());
            FeatureMap fresh = vae.decoder().forward(FeatureMap.fromChw(z, vae.config().latentChannels(), h, w), Probe.NONE);
            assertArrayEquals(fresh.data(), second.data());
        }
    }
}
