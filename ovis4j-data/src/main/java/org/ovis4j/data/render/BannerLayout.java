package org.ovis4j.data.render;

/** A wide banner: a coloured strip across the middle with the headline, a line above and one below. */
final class BannerLayout implements Layout {
    @Override
    public void compose(Composer c) {
        float m = c.w * 0.06f, maxW = c.w - 2 * m;
        int bg = c.background.meanColor();
        float top = c.h * (float) c.rng.range(0.32, 0.4), stripH = c.h * (float) c.rng.range(0.24, 0.3);
        int strip = c.panelColor();
        c.panel("banner strip", 0, top, c.w, stripH, 0, strip, c.rng.chance(0.4) ? Colors.textColorFor(strip, 3, c.rng) : -1);
        String name = c.bank.shopName();
        FontFace nf = c.anyFace();
        c.text("name", name, nf, c.fit(nf, name, maxW, (float) c.rng.range(26, 36) * c.unit), c.w / 2f,
                top - c.h * 0.08f, TextItem.Align.CENTER, bg);
        String head = c.bank.headline();
        FontFace hf = c.face(true);
        float hs = c.fit(hf, head, maxW, Math.min(stripH * 0.6f, (float) c.rng.range(50, 72) * c.unit));
        c.text("headline", head, hf, hs, c.w / 2f, top + stripH / 2 + hs * 0.36f, TextItem.Align.CENTER, strip);
        String sub = c.bank.subline();
        FontFace sf = c.anyFace();
        float ss = c.fit(sf, sub, maxW, (float) c.rng.range(24, 34) * c.unit);
        c.text("subtitle", sub, sf, ss, c.w / 2f, top + stripH + ss * 1.6f, TextItem.Align.CENTER, bg);
    }
}
