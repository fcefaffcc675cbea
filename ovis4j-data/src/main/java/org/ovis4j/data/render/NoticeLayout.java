package org.ovis4j.data.render;

/** A printed notice on a sheet: a heading, a wrapped paragraph of two sentences, and a signature. */
final class NoticeLayout implements Layout {
    @Override
    public void compose(Composer c) {
        float m = c.w * 0.07f;
        int paper = Colors.hsv(c.rng.range(30, 60), c.rng.range(0, 0.15), c.rng.range(0.88, 1.0));
        c.panel("sheet", m, m * 0.8f, c.w - 2 * m, c.h - 1.6f * m, 4 * c.unit, paper, Colors.mix(paper, 0x000000, 0.3));
        float left = m * 1.8f, inner = c.w - 3.6f * m;
        String head = c.bank.noticeHeading();
        FontFace hf = c.face(true);
        float hs = c.fit(hf, head, inner, (float) c.rng.range(40, 54) * c.unit);
        c.text("heading", head, hf, hs, c.w / 2f, m + c.h * 0.14f, TextItem.Align.CENTER, paper);
        FontFace bf = c.face(false);
        float bs = (float) c.rng.range(24, 30) * c.unit;
        float y = m + c.h * 0.28f;
        int color = -1;
        String s1 = c.bank.noticeSentence(), s2 = c.bank.noticeSentence();
        for (int i = 0; i < 16 && s2.equals(s1); i++) s2 = c.bank.noticeSentence();
        for (String sentence : new String[] {s1, s2}) {
            for (String line : c.wrap(bf, bs, sentence, inner)) {
                if (y > c.h - m * 2.6f) break;
                TextItem t = color < 0 ? c.text("body", line, bf, bs, left, y, TextItem.Align.LEFT, paper)
                        : c.text("body", line, bf, bs, left, y, TextItem.Align.LEFT, paper, color);
                color = t.color();
                y += bs * 1.5f;
            }
            y += bs * 0.5f;
        }
        String sig = c.bank.signature();
        FontFace sf = c.anyFace();
        c.text("signature", sig, sf, (float) c.rng.range(20, 26) * c.unit, left + inner, c.h - m * 1.9f,
                TextItem.Align.RIGHT, paper);
    }
}
