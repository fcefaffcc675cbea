package org.ovis4j.data.render;

/** A shop front: a board with the shop's name, and below it a small hanging sign and a phone number. */
final class ShopSignLayout implements Layout {
    @Override
    public void compose(Composer c) {
        float m = c.w * 0.07f;
        int bg = c.background.meanColor();
        float bx = m, by = c.h * (float) c.rng.range(0.08, 0.16), bw = c.w - 2 * m, bh = c.h * (float) c.rng.range(0.26, 0.34);
        int board = c.panelColor();
        c.panel("sign board", bx, by, bw, bh, (float) c.rng.range(0, 24) * c.unit, board,
                c.rng.chance(0.6) ? Colors.textColorFor(board, 2.5, c.rng) : -1);
        String name = c.bank.shopName();
        FontFace nf = c.face(c.rng.chance(0.75));
        float ns = c.fit(nf, name, bw * 0.88f, Math.min(bh * 0.55f, (float) c.rng.range(54, 80) * c.unit));
        c.text("name", name, nf, ns, c.w / 2f, by + bh / 2 + ns * 0.36f, TextItem.Align.CENTER, board);
        String open = c.bank.openSign();
        FontFace of = c.face(true);
        float os = (float) c.rng.range(30, 40) * c.unit;
        float ow = Composer.width(of, os, open) + 2 * os * 0.6f, oh = os * 1.7f;
        float oy = by + bh + c.h * 0.12f;
        int tag = c.panelColor();
        c.panel("hanging sign", (c.w - ow) / 2, oy, ow, oh, os * 0.3f, tag, -1);
        c.text("sign", open, of, os, c.w / 2f, oy + oh / 2 + os * 0.36f, TextItem.Align.CENTER, tag);
        String extra = c.rng.chance(0.5) ? c.bank.phone() : c.bank.subline();
        FontFace ef = c.anyFace();
        c.text("detail", extra, ef, c.fit(ef, extra, c.w - 2 * m, (float) c.rng.range(20, 28) * c.unit), c.w / 2f,
                c.h * (float) c.rng.range(0.84, 0.9), TextItem.Align.CENTER, bg);
    }
}
