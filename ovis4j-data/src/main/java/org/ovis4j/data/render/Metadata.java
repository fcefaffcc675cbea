package org.ovis4j.data.render;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON record stored next to each image. Besides the captions it keeps every line's geometry
 * and style, and carries {@code id}, {@code prompt}, {@code texts} and {@code lang} under the same
 * names as an evaluation prompt file, so a shard's records can be fed to the evaluator as they are.
 */
public final class Metadata {
    private Metadata() {}

    public static Map<String, Object> of(String key, long seed, SampleGenerator.Generated g) {
        RenderedSample s = g.sample();
        SampleSpec spec = s.spec();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", key);
        m.put("seed", seed);
        m.put("index", g.index());
        m.put("width", (long) spec.width());
        m.put("height", (long) spec.height());
        m.put("lang", spec.lang().code);
        m.put("layout", spec.layout().id());
        m.put("prompt", spec.lang() == Lang.ZH ? g.captionZh() : g.captionEn());
        m.put("caption_en", g.captionEn());
        m.put("caption_zh", g.captionZh());
        m.put("texts", new ArrayList<Object>(Captioner.texts(s)));
        Background bg = spec.background();
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("kind", bg.kind().id());
        b.put("colors", List.of(Colors.hex(bg.a()), Colors.hex(bg.b())));
        b.put("grain", round(bg.grain()));
        m.put("background", b);
        m.put("perspective", spec.perspective() == null ? null : numbers(spec.perspective()));
        m.put("lines", lines(s));
        return m;
    }

    /** Every rendered line's text, geometry and style, in drawing order. */
    public static List<Object> lines(RenderedSample s) {
        List<Object> lines = new ArrayList<>();
        for (RenderedLine l : s.lines()) {
            TextItem t = l.item();
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("text", t.text());
            o.put("role", t.role());
            o.put("bbox", numbers(l.bbox()));
            o.put("quad", numbers(l.quad()));
            o.put("font", t.face().name());
            o.put("font_file", t.face().file());
            o.put("weight", t.face().weight());
            o.put("size", round(t.size()));
            o.put("color", Colors.hex(t.color()));
            o.put("rotation", round(t.rotation()));
            o.put("outline", t.outline() < 0 ? null : ordered("color", Colors.hex(t.outline()), "width", round(t.outlineWidth())));
            o.put("shadow", t.shadow() < 0 ? null
                    : ordered("color", Colors.hex(t.shadow()), "dx", round(t.shadowDx()), "dy", round(t.shadowDy())));
            o.put("contrast", round(l.contrast()));
            o.put("effective_contrast", round(l.effectiveContrast()));
            lines.add(o);
        }
        return lines;
    }

    /** Map.of iterates in a per-JVM order; the JSON must come out the same every run. */
    public static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private static List<Object> numbers(double[] v) {
        List<Object> out = new ArrayList<>();
        for (double d : v) out.add(round(d));
        return out;
    }

    /** Two decimals: enough for pixels and ratios, and keeps the JSON short and stable. */
    static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
