package org.ovis4j.data;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ovis4j.data.render.Captioner;
import org.ovis4j.data.render.FontCatalog;
import org.ovis4j.data.render.Lang;
import org.ovis4j.data.render.Metadata;
import org.ovis4j.data.render.SampleGenerator;

/** The general typography designs (posters, signs, labels, UI, covers, notices) in English and Chinese. */
final class TypographySource implements SampleSource {
    private final SampleGenerator generator;
    private final long seed;
    private final List<Lang> langs;
    private final boolean clean;

    TypographySource(long seed, List<Lang> langs, int width, int height, boolean clean, FontCatalog fonts) {
        this.generator = new SampleGenerator(seed, langs, width, height, clean, fonts);
        this.seed = seed;
        this.langs = List.copyOf(langs);
        this.clean = clean;
    }

    @Override
    public Sample make(long index, String key) {
        SampleGenerator.Generated g = generator.generate(index);
        return new Sample(g.sample(), Metadata.of(key, seed, g), Captioner.texts(g.sample()));
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("langs", langs.stream().map(l -> (Object) l.code).toList());
        m.put("mode", clean ? "clean" : "mixed");
        return m;
    }
}
