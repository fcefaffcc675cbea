package org.ovis4j.train.dit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.train.testing.TrainingGoldens;

/** Batches that do not fit the model are refused with one line naming what is wrong. */
class TransformerBatchTest {
    static final float[] TXT_IDS = new float[5 * 3], IMG_IDS = new float[6 * 3];

    @Test
    void sizesThatDoNotMatchAreOneLineErrors() {
        OvisException e = assertThrows(OvisException.class,
                () -> new TransformerBatch(2, 6, 5, new float[2 * 6 * 64], new float[2 * 5 * 64], new float[1], TXT_IDS, IMG_IDS));
        assertEquals("training batch: 1 sigmas for 2 samples", e.getMessage());
        e = assertThrows(OvisException.class,
                () -> new TransformerBatch(2, 6, 5, new float[2 * 6 * 64], new float[2 * 5 * 64], new float[2], TXT_IDS, new float[3]));
        assertEquals("training batch: position ids do not match 5 text and 6 image tokens", e.getMessage());

        TrainableTransformer model = TrainableTransformer.load(TrainingGoldens.tinyModel());
        TransformerBatch wrongLatents = new TransformerBatch(2, 6, 5, new float[2 * 6 * 16], new float[2 * 5 * 64], new float[2],
                TXT_IDS, IMG_IDS);
        e = assertThrows(OvisException.class, () -> model.forward(wrongLatents, false));
        assertEquals("training batch: latents hold 192 values, expected 2 x 6 x 64", e.getMessage());
        TransformerBatch wrongText = new TransformerBatch(2, 6, 5, new float[2 * 6 * 64], new float[2 * 5 * 32], new float[2],
                TXT_IDS, IMG_IDS);
        e = assertThrows(OvisException.class, () -> model.forward(wrongText, false));
        assertEquals("training batch: text states hold 320 values, expected 2 x 5 x 64", e.getMessage());
        TransformerPass pass = model.forward(new TransformerBatch(2, 6, 5, new float[2 * 6 * 64], new float[2 * 5 * 64],
                new float[2], TXT_IDS, IMG_IDS), false);
        e = assertThrows(OvisException.class, () -> model.backward(pass, new float[7]));
        assertEquals("transformer backward: 7 gradient values for a prediction of 768", e.getMessage());
    }
}
