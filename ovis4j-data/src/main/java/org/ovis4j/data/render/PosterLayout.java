package org.ovis4j.data.render;

import java.util.List;

/** A poster: a big title (sometimes on two lines), a subtitle, and a footer line, top to bottom. */
final class PosterLayout implements Layout {
    @Override
    public void compose(Composer c) {
        float m = c.w * 0.08f, maxW = c.w - 2 * m;
        TextItem.Align a = c.anyAlign();
        float x = Composer.anchor(a, m, maxW);
        int bg = c.background.meanColor();
        FontFace title = c.face(c.rng.chance(0.8));
        String t = c.bank.headline();
        float size = (float) c.rng.range(56, 84) * c.unit;
        float y = c.h * (float) c.rng.range(0.22, 0.3);
        List<String> words = List.of(t.split(" "));
        if (c.lang == Lang.EN && words.size() >= 2 && c.rng.chance(0.4)) {
            int cut = (words.size() + 1) / 2;
            String l1 = String.join(" ", words.subList(0, cut)), l2 = String.join(" ", words.subList(cut, words.size()));
            float s = Math.min(c.fit(title, l1, maxW, size), c.fit(title, l2, maxW, size));
            TextItem first = c.text("title", l1, title, s, x, y, a, bg);
            c.text("title", l2, title, s, x, y + s * 1.15f, a, bg, first.color());
            y += s * 1.15f;
        } else {
            c.text("title", t, title, c.fit(title, t, maxW, size), x, y, a, bg);
        }
        String sub = c.bank.subline();
        FontFace sf = c.anyFace();
        float ss = c.fit(sf, sub, maxW, (float) c.rng.range(26, 38) * c.unit);
        float sy = Math.max(y + ss * 2f, c.h * 0.55f);
        int under = bg;
        if (c.rng.chance(0.3)) {
            under = c.panelColor();
            c.panel("band", 0, sy - ss * 1.2f, c.w, ss * 1.7f, 0, under, -1);
        }
        c.text("subtitle", sub, sf, ss, x, sy, a, under);
        String foot = c.rng.chance(0.5) ? c.bank.subline() : c.bank.phone();
        for (int i = 0; i < 16 && foot.equals(sub); i++) foot = c.bank.subline();
        FontFace ff = c.anyFace();
        c.text("footer", foot, ff, c.fit(ff, foot, maxW, (float) c.rng.range(18, 26) * c.unit), x,
                c.h * (float) c.rng.range(0.82, 0.9), a, bg);
    }
}
