package org.ovis4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.ovis4j.core.OvisException;
import org.ovis4j.core.json.Json;

/** Flow-GRPO's OCR reward against the 12 cases computed by flow_grpo's own code (goldens README 9.8). */
class FlowGrpoOcrRewardTest {
    @Test
    @SuppressWarnings("unchecked")
    void allTwelveGoldenCasesMatchExactly() throws Exception {
        String text;
        try (InputStream in = FlowGrpoOcrRewardTest.class.getResourceAsStream("/goldens/ocr_reward_cases.jsonl")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int cases = 0;
        for (String line : text.split("\n")) {
            if (line.isBlank()) continue;
            Map<String, Object> c = (Map<String, Object>) Json.parse(line);
            String prompt = (String) c.get("prompt");
            List<FlowGrpoOcrReward.OcrLine> lines = new ArrayList<>();
            for (Object l : (List<Object>) c.get("ocr_lines")) {
                List<Object> pair = (List<Object>) l;
                lines.add(new FlowGrpoOcrReward.OcrLine((String) pair.get(0), ((Number) pair.get(1)).doubleValue()));
            }
            FlowGrpoOcrReward.Result r = FlowGrpoOcrReward.score(prompt, lines);
            String id = "case " + c.get("id") + " (" + c.get("tests") + ")";
            assertEquals(c.get("target"), r.target(), id);
            assertEquals(c.get("target_norm"), r.targetNorm(), id);
            assertEquals(c.get("ocr_norm"), r.ocrNorm(), id);
            assertEquals(c.get("substring"), r.substring(), id);
            if (c.get("levenshtein") != null) {
                assertEquals(((Number) c.get("levenshtein")).intValue(), TextMetrics.levenshtein(r.ocrNorm(), r.targetNorm()), id);
            }
            assertEquals(((Number) c.get("dist")).intValue(), r.distance(), id);
            // The same double operations as Python's 1 - dist / len: bit-identical.
            assertEquals(((Number) c.get("reward")).doubleValue(), r.reward(), 0.0, id);
            cases++;
        }
        assertEquals(12, cases);
    }

    @Test
    void promptsFlowGrpoCannotScoreAreOneLineErrors() {
        List<FlowGrpoOcrReward.OcrLine> none = List.of();
        assertThrows(OvisException.class, () -> FlowGrpoOcrReward.reward("a sign with no quotes", none));
        assertThrows(OvisException.class, () -> FlowGrpoOcrReward.reward("an empty \"\" sign", none));
        assertThrows(OvisException.class, () -> FlowGrpoOcrReward.reward("only \" \" spaces", none));
        // An unclosed quote runs to the end, as Python's split does.
        assertEquals("hi there", FlowGrpoOcrReward.target("say \"hi there"));
    }
}
