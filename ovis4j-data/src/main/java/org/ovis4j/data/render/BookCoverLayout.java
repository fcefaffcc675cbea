package org.ovis4j.data.render;

import java.util.List;

/** A book cover: the title high up (wrapped when long), a band naming the genre, the author at the foot. */
final class BookCoverLayout implements Layout {
    @Override
    public void compose(Composer c) {
        float m = c.w * 0.1f, maxW = c.w - 2 * m;
        int bg = c.background.meanColor();
        TextItem.Align a = c.rng.chance(0.7) ? TextItem.Align.CENTER : TextItem.Align.LEFT;
        float x = Composer.anchor(a, m, maxW);
        String title = c.bank.bookTitle();
        FontFace tf = c.face(c.rng.chance(0.6));
        float ts = (float) c.rng.range(52, 72) * c.unit;
        List<String> lines = c.wrap(tf, ts, title, maxW);
        if (lines.size() > 2) {
            ts = c.fit(tf, title, maxW, ts);
            lines = List.of(title);
        }
        float y = c.h * (float) c.rng.range(0.2, 0.28);
        int color = -1;
        for (String line : lines) {
            float s = c.fit(tf, line, maxW, ts);
            TextItem t = color < 0 ? c.text("title", line, tf, s, x, y, a, bg) : c.text("title", line, tf, s, x, y, a, bg, color);
            color = t.color();
            y += ts * 1.2f;
        }
        String kind = c.bank.bookKind();
        FontFace kf = c.anyFace();
        float ks = (float) c.rng.range(22, 30) * c.unit;
        float by = c.h * 0.58f;
        int band = c.panelColor();
        c.panel("band", 0, by, c.w, ks * 2f, 0, band, -1);
        c.text("subtitle", kind, kf, ks, x, by + ks * 1.36f, a, band);
        String author = c.bank.author();
        FontFace af = c.anyFace();
        c.text("author", author, af, c.fit(af, author, maxW, (float) c.rng.range(28, 36) * c.unit), x,
                c.h * (float) c.rng.range(0.84, 0.9), a, bg);
    }
}
