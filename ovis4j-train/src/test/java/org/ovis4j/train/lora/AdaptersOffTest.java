package org.ovis4j.train.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ovis4j.train.testing.TrainingGoldens.floats;
import static org.ovis4j.train.testing.TrainingGoldens.tinyModel;

import java.util.Arrays;
import java.util.Iterator;
import org.junit.jupiter.api.Test;
import org.ovis4j.train.dit.Adapters;
import org.ovis4j.train.dit.TrainableTransformer;
import org.ovis4j.train.dit.TransformerBatch;
import org.ovis4j.train.dit.TransformerPass;
import org.ovis4j.train.loss.FlowMatching;
import org.ovis4j.train.param.Parameter;

/** {@link TrainableTransformer#withoutAdapters()}: the LoRA model with its adapters switched off (peft's disable_adapter). */
class AdaptersOffTest {
    static TransformerBatch batch() {
        var g = LoraGoldenTest.G;
        float[] sigma = floats(g, "in.sigma");
        return new TransformerBatch(2, 6, 5, FlowMatching.interpolate(floats(g, "in.x0"), floats(g, "in.noise"), sigma),
                floats(g, "in.prompt_embeds"), sigma, floats(g, "in.txt_ids"), floats(g, "in.img_ids"));
    }

    @Test
    void theViewIsTheBaseModelBitForBitAndLeavesThePolicyAlone() {
        TrainableTransformer policy = TrainableTransformer.load(tinyModel(), false, new LoraAdapters(4, 8, LoraGoldenTest.adapters()));
        TrainableTransformer off = policy.withoutAdapters(), base = TrainableTransformer.load(tinyModel(), false, Adapters.NONE);

        // the base parameters, in the base model's order, and the policy's own objects (shared, not copied)
        assertEquals(105, off.parameters().count());
        Iterator<Parameter> b = base.parameters().iterator();
        for (Parameter p : off.parameters()) {
            assertEquals(b.next().name(), p.name());
            assertSame(policy.parameters().get(p.name()), p);
        }

        float[] before = policy.forward(batch(), false).prediction();
        TransformerPass pass = off.forward(batch(), false);
        assertArrayEquals(base.forward(batch(), false).prediction(), pass.prediction());
        double moved = 0;
        for (int i = 0; i < before.length; i++) moved = Math.max(moved, Math.abs(before[i] - pass.prediction()[i]));
        assertTrue(moved > 1e-2, "the adapters change the prediction (by " + moved + ")");

        // a backward through the view reaches no adapter, and the policy computes what it computed before
        float[] ones = new float[pass.prediction().length];
        Arrays.fill(ones, 1f);
        off.backward(pass, ones);
        for (Parameter p : policy.parameters().trainable())
            for (float g : p.grad()) assertEquals(0f, g, p.name());
        assertArrayEquals(before, policy.forward(batch(), false).prediction());
    }

    @Test
    void aModelWithoutAdaptersIsItsOwnView() {
        TrainableTransformer plain = TrainableTransformer.load(tinyModel());
        TrainableTransformer off = plain.withoutAdapters();
        assertEquals(105, off.parameters().count());
        assertEquals(105, off.parameters().trainable().size());
        assertArrayEquals(plain.forward(batch(), false).prediction(), off.forward(batch(), false).prediction());
    }
}
