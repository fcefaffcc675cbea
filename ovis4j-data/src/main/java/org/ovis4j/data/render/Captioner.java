package org.ovis4j.data.render;

import java.util.List;

/**
 * Writes the English and Chinese captions of a sample in the manner of text-to-image prompts: what
 * the design is, its background, then each line of text in quotes with its place and look. Every
 * rendered line is quoted verbatim and nothing else is, so the quoted texts of a caption are exactly
 * the ground truth (the evaluator's quote extraction relies on this). English captions quote with
 * "...", Chinese ones with “...”.
 */
public final class Captioner {
    private Captioner() {}

    public static String english(RenderedSample s, Rng rng) {
        SampleSpec spec = s.spec();
        StringBuilder b = new StringBuilder();
        String layout = spec.layout().en;
        b.append(article(layout)).append(' ').append(layout).append(" with ").append(backgroundEn(spec.background()))
                .append(" background.");
        for (RenderedLine l : s.lines()) {
            TextItem t = l.item();
            String size = sizeWord(t, spec, "large", "medium-sized", "small");
            String look = size + (t.face().bold() ? " bold" : "") + " " + Colors.nameEn(t.color())
                    + (t.face().serif() ? " serif" : "") + " text";
            String pos = position(l, spec, "At the top", "In the middle", "At the bottom");
            String on = onPanel(t, spec) ? " on " + article(Colors.nameEn(t.under())) + " "
                    + Colors.nameEn(t.under()) + " " + panelWord(t.role()) : "";
            b.append(' ');
            switch (rng.nextInt(3)) {
                case 0 -> b.append(pos).append(", ").append(look).append(on).append(" reads \"").append(t.text()).append('"');
                case 1 -> b.append(pos).append(" is the ").append(t.role()).append(" \"").append(t.text()).append("\" in ")
                        .append(look.replace(" text", " letters")).append(on);
                default -> b.append("The ").append(t.role()).append(" says \"").append(t.text()).append("\" in ").append(look)
                        .append(on).append(", ").append(pos.toLowerCase(java.util.Locale.ROOT));
            }
            if (t.outline() >= 0) b.append(", with ").append(article(Colors.nameEn(t.outline()))).append(' ')
                    .append(Colors.nameEn(t.outline())).append(" outline");
            if (t.shadow() >= 0) b.append(", with a drop shadow");
            if (t.rotation() != 0) b.append(", slightly tilted");
            b.append('.');
        }
        if (spec.perspective() != null) b.append(" The whole design is seen at a slight angle.");
        b.setCharAt(0, Character.toUpperCase(b.charAt(0)));
        return b.toString();
    }

    public static String chinese(RenderedSample s, Rng rng) {
        SampleSpec spec = s.spec();
        StringBuilder b = new StringBuilder("一张").append(spec.layout().zh).append("，背景为").append(backgroundZh(spec.background())).append("。");
        for (RenderedLine l : s.lines()) {
            TextItem t = l.item();
            String pos = position(l, spec, "顶部", "中部", "底部");
            String look = Colors.nameZh(t.color()) + (t.face().bold() ? "粗体" : "") + (t.face().serif() ? "衬线" : "")
                    + sizeWord(t, spec, "大字", "中号字", "小字");
            String on = onPanel(t, spec) ? "在" + Colors.nameZh(t.under()) + panelWordZh(t.role()) + "上" : "";
            switch (rng.nextInt(2)) {
                case 0 -> b.append(pos).append(on).append("用").append(look).append("写着“").append(t.text()).append("”");
                default -> b.append(pos).append(on).append("是").append(look).append("“").append(t.text()).append("”");
            }
            if (t.outline() >= 0) b.append("，带有").append(Colors.nameZh(t.outline())).append("描边");
            if (t.shadow() >= 0) b.append("，带有投影");
            if (t.rotation() != 0) b.append("，略微倾斜");
            b.append("。");
        }
        if (spec.perspective() != null) b.append("整体画面带有轻微的透视角度。");
        return b.toString();
    }

    private static String article(String word) {
        return "aeiou".indexOf(Character.toLowerCase(word.charAt(0))) >= 0 ? "an" : "a";
    }

    private static String sizeWord(TextItem t, SampleSpec spec, String big, String mid, String small) {
        float rel = t.size() / (Math.min(spec.width(), spec.height()) / 512f);
        return rel >= 46 ? big : rel >= 27 ? mid : small;
    }

    private static String position(RenderedLine l, SampleSpec spec, String top, String middle, String bottom) {
        double cy = (l.bbox()[1] + l.bbox()[3] / 2) / spec.height();
        return cy < 0.36 ? top : cy < 0.66 ? middle : bottom;
    }

    /**
     * Whether to say what a line sits on. Lines of a sheet or window (heading, body, ...) all sit on
     * it and saying so each time is noise; buttons, boards and bands are worth naming.
     */
    private static boolean onPanel(TextItem t, SampleSpec spec) {
        return t.under() != spec.background().meanColor()
                && !java.util.Set.of("heading", "body", "signature", "field label").contains(t.role());
    }

    private static String panelWord(String role) {
        return switch (role) {
            case "button" -> "button";
            case "name" -> "board";
            case "sign" -> "sign";
            case "brand", "title", "detail" -> "label";
            case "headline" -> "strip";
            default -> "panel";
        };
    }

    private static String panelWordZh(String role) {
        return switch (role) {
            case "button" -> "按钮";
            case "name" -> "招牌";
            case "sign" -> "挂牌";
            case "brand", "title", "detail" -> "标签";
            case "headline" -> "横条";
            default -> "底板";
        };
    }

    private static String backgroundEn(Background bg) {
        String a = Colors.nameEn(bg.a()), b = Colors.nameEn(bg.b());
        String desc = switch (bg.kind()) {
            case SOLID -> "plain " + a;
            case LINEAR_GRADIENT, RADIAL_GRADIENT -> a.equals(b) ? a + " " + bg.kind().en : a + " to " + b + " " + bg.kind().en;
            case TEXTURE -> "mottled " + a + " textured";
            case STRIPES -> a + " and " + b + " striped";
            case PAPER -> a + " paper-like";
        };
        String withGrain = bg.grain() > 0 && bg.kind() != Background.Kind.PAPER ? desc + " grainy" : desc;
        return article(withGrain) + " " + withGrain;
    }

    private static String backgroundZh(Background bg) {
        String a = Colors.nameZh(bg.a()), b = Colors.nameZh(bg.b());
        String desc = switch (bg.kind()) {
            case SOLID -> "纯" + a;
            case LINEAR_GRADIENT, RADIAL_GRADIENT -> (a.equals(b) ? a : a + "到" + b + "的") + bg.kind().zh;
            case TEXTURE -> a + "斑驳纹理";
            case STRIPES -> a + "与" + b + "相间的条纹";
            case PAPER -> a + "纸张质感";
        };
        return bg.grain() > 0 && bg.kind() != Background.Kind.PAPER ? desc + "，带有颗粒噪点" : desc;
    }

    /** The quoted texts in caption order: the ground truth a caption carries. */
    public static List<String> texts(RenderedSample s) {
        return s.lines().stream().map(l -> l.item().text()).toList();
    }
}
