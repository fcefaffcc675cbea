package org.ovis4j.data.render;

/** A product label: an oval or rounded sticker with a brand, the product's name and a detail line. */
final class LabelLayout implements Layout {
    @Override
    public void compose(Composer c) {
        boolean oval = c.rng.chance(0.4);
        float lw = c.w * (oval ? 0.84f : 0.76f), lh = c.h * (float) c.rng.range(0.46, 0.56);
        float lx = (c.w - lw) / 2, ly = (c.h - lh) / 2;
        int sticker = c.panelColor();
        c.panel("label", lx, ly, lw, lh, oval ? -1 : (float) c.rng.range(8, 30) * c.unit, sticker,
                Colors.textColorFor(sticker, 2, c.rng));
        float inner = lw * (oval ? 0.68f : 0.86f);
        String brand = c.bank.shopName();
        FontFace bf = c.anyFace();
        float bs = c.fit(bf, brand, inner, (float) c.rng.range(22, 30) * c.unit);
        c.text("brand", brand, bf, bs, c.w / 2f, ly + lh * 0.27f, TextItem.Align.CENTER, sticker);
        String product = c.bank.product();
        FontFace pf = c.face(true);
        float ps = c.fit(pf, product, inner, (float) c.rng.range(44, 64) * c.unit);
        c.text("title", product, pf, ps, c.w / 2f, ly + lh * 0.52f + ps * 0.3f, TextItem.Align.CENTER, sticker);
        String detail = c.bank.productDetail();
        FontFace df = c.anyFace();
        c.text("detail", detail, df, c.fit(df, detail, inner * 0.9f, (float) c.rng.range(20, 26) * c.unit), c.w / 2f,
                ly + lh * 0.8f, TextItem.Align.CENTER, sticker);
    }
}
