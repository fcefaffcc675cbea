package org.ovis4j.data.render;

/** An app screen: a window with a heading, two labelled input boxes and a button. */
final class UiMockupLayout implements Layout {
    @Override
    public void compose(Composer c) {
        float m = c.w * 0.08f, u = c.unit;
        boolean dark = c.rng.chance(0.25);
        int window = dark ? Colors.hsv(c.rng.range(200, 260), 0.2, 0.18) : Colors.hsv(c.rng.range(0, 360), 0.05, 0.97);
        c.panel("window", m, m, c.w - 2 * m, c.h - 2 * m, 18 * u, window, Colors.mix(window, dark ? 0xFFFFFF : 0x000000, 0.2));
        float left = m * 2, inner = c.w - 4 * m;
        String heading = c.bank.screenTitle();
        FontFace hf = c.face(true);
        float hs = c.fit(hf, heading, inner, (float) c.rng.range(34, 44) * u);
        c.text("heading", heading, hf, hs, left, m + c.h * 0.14f, TextItem.Align.LEFT, window);
        float y = m + c.h * 0.24f;
        FontFace lf = c.face(false);
        int box = Colors.mix(window, dark ? 0xFFFFFF : 0x000000, 0.06);
        String first = c.bank.field(), second = c.bank.field();
        // Two fields with one label would make a caption quote the same text twice; redraw (the
        // bound only guards against a vocabulary of one).
        for (int i = 0; i < 16 && second.equals(first); i++) second = c.bank.field();
        for (String label : new String[] {first, second}) {
            float ls = (float) c.rng.range(20, 24) * u;
            c.text("field label", label, lf, ls, left, y, TextItem.Align.LEFT, window);
            c.panel("input box", left, y + ls * 0.5f, inner, ls * 1.9f, 6 * u, box, Colors.mix(window, dark ? 0xFFFFFF : 0x000000, 0.35));
            y += ls * 3.6f;
        }
        String b = c.bank.button();
        FontFace bf = c.face(true);
        float bs = (float) c.rng.range(24, 30) * u;
        float bw = Math.min(inner, Composer.width(bf, bs, b) + bs * 2.4f), bh = bs * 2f;
        float bx = c.rng.chance(0.5) ? left : left + inner - bw, by = y + c.h * 0.02f;
        int button = Colors.hsv(c.rng.range(0, 360), c.rng.range(0.5, 0.9), c.rng.range(0.35, 0.85));
        c.panel("button", bx, by, bw, bh, c.rng.chance(0.5) ? bh / 2 : 6 * u, button, -1);
        c.text("button", b, bf, bs, bx + bw / 2, by + bh / 2 + bs * 0.36f, TextItem.Align.CENTER, button);
    }
}
