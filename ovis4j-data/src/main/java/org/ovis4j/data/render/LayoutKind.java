package org.ovis4j.data.render;

/** The designs the engine composes; names are used in metadata (id) and captions (en, zh). */
public enum LayoutKind {
    POSTER("poster", "海报", new PosterLayout()),
    BANNER("banner", "横幅", new BannerLayout()),
    SHOP_SIGN("shop sign", "店铺招牌", new ShopSignLayout()),
    LABEL("product label", "产品标签", new LabelLayout()),
    UI_MOCKUP("app screen mockup", "应用界面设计图", new UiMockupLayout()),
    BOOK_COVER("book cover", "书籍封面", new BookCoverLayout()),
    NOTICE("printed notice", "告示", new NoticeLayout());

    public final String en, zh;
    final Layout layout;

    LayoutKind(String en, String zh, Layout layout) {
        this.en = en;
        this.zh = zh;
        this.layout = layout;
    }

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
