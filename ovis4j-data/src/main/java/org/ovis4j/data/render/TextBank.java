package org.ovis4j.data.render;

/**
 * The words the engine writes. Phrases are assembled from small vocabularies so that a thousand
 * samples rarely repeat, while staying real words (OCR language models, like image models, do best
 * on plausible text, and captions should read like prompts people write).
 */
public final class TextBank {
    private final Rng rng;
    private final Lang lang;

    public TextBank(Rng rng, Lang lang) {
        this.rng = rng;
        this.lang = lang;
    }

    private static final String[] ADJ = {"Golden", "Blue", "Silver", "Happy", "Little", "Royal", "Green", "Sunny",
            "Urban", "Old", "Fresh", "Lucky", "Wild", "Quiet", "Bright", "Modern", "Classic", "Cozy", "Red", "Northern"};
    private static final String[] SHOP = {"Bakery", "Cafe", "Books", "Market", "Garden", "Kitchen", "Studio", "Pharmacy",
            "Florist", "Barber", "Tea House", "Noodle Bar", "Hardware", "Bicycles", "Records", "Gallery", "Deli", "Pizza"};
    private static final String[] THING = {"Harbor", "River", "Moon", "Star", "Lantern", "Forest", "Bridge", "City",
            "Mountain", "Island", "Ocean", "Valley", "Meadow", "Castle", "Street", "Garden", "Winter", "Summer"};
    private static final String[] HEADLINE = {"Summer Sale", "Grand Opening", "Live Music Tonight", "Big Clearance",
            "New Arrivals", "Welcome Home", "Happy Birthday", "Open House", "Book Fair", "Coffee Break", "Fresh Daily",
            "Limited Offer", "Final Days", "Save the Date", "Join Us", "Thank You", "Art Exhibition",
            "Spring Collection", "Winter Market", "Food Festival", "Jazz Night", "Flash Sale"};
    private static final String[] MONTH = {"January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December"};
    private static final String[] DAY = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    private static final String[] FIRST = {"Anna", "James", "Maria", "David", "Laura", "Peter", "Elena", "Thomas",
            "Sofia", "Daniel", "Grace", "Oliver"};
    private static final String[] LAST = {"Carter", "Morgan", "Hughes", "Bennett", "Foster", "Reed", "Walsh", "Parker",
            "Hayes", "Turner", "Brooks", "Mitchell"};
    private static final String[] PRODUCT = {"Organic Honey", "Olive Oil", "Green Tea", "Dark Chocolate", "Coffee Beans",
            "Strawberry Jam", "Sea Salt", "Maple Syrup", "Lemon Soap", "Almond Milk"};
    private static final String[] NOTICE_EN = {"Please keep this door closed", "No parking in front of the gate",
            "Wet floor please walk carefully", "Elevator under maintenance", "Please keep quiet in the library",
            "Staff only beyond this point", "Visitors must sign in at reception", "Thank you for your patience",
            "Water will be off from noon to four", "Lost and found is at the front desk"};
    private static final String[] BUTTON = {"Sign In", "Sign Up", "Continue", "Cancel", "Submit", "Download", "Buy Now",
            "Learn More", "Get Started", "Subscribe", "Save Changes", "Next", "Back", "Add to Cart", "Search"};
    private static final String[] SCREEN = {"Welcome back", "Create your account", "Settings", "Your order",
            "Payment details", "Notifications", "Reset password", "Profile"};
    private static final String[] FIELD = {"Email address", "Password", "Username", "Remember me", "Phone number",
            "Full name", "Shipping address"};

    private static final String[] ZH_ADJ = {"金色", "蓝天", "老街", "幸福", "小城", "阳光", "东方", "绿野", "星光", "清风", "红叶", "明月"};
    private static final String[] ZH_SHOP = {"面包房", "咖啡馆", "书店", "花店", "茶馆", "面馆", "超市", "理发店", "药房", "餐厅", "文具店", "水果店"};
    private static final String[] ZH_HEADLINE = {"夏季大促销", "盛大开业", "新品上市", "限时特惠", "欢迎光临", "生日快乐", "读书节",
            "春季新品", "年终清仓", "音乐节", "美食节", "艺术展览", "感恩回馈", "周末狂欢", "新年快乐", "中秋团圆"};
    private static final String[] ZH_SUB = {"免费入场", "仅限本周末", "欢迎选购", "品质保证", "买一送一", "会员专享", "数量有限", "先到先得"};
    private static final String[] ZH_NUM = {"五", "六", "七", "八", "九"};
    private static final String[] ZH_PLACE = {"远方", "故乡", "山中", "海边", "城市", "春天", "夜晚", "森林", "江南", "北方"};
    private static final String[] ZH_THING = {"河流", "灯火", "来信", "故事", "歌声", "花园", "星空", "少年", "月光", "小屋"};
    private static final String[] ZH_SURNAME = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"};
    private static final String[] ZH_GIVEN = {"明", "华", "静", "伟", "芳", "强", "磊", "婷", "晨", "思远", "雨桐", "子涵"};
    private static final String[] ZH_PRODUCT = {"有机蜂蜜", "橄榄油", "绿茶", "黑巧克力", "咖啡豆", "草莓果酱", "海盐", "桂花糕", "柠檬香皂", "杏仁奶"};
    private static final String[] ZH_NOTICE = {"请随手关门", "门前禁止停车", "地面湿滑小心慢行", "电梯维修中暂停使用", "请保持安静",
            "非工作人员请勿入内", "来访人员请先登记", "感谢您的耐心等待", "明天中午停水四小时", "失物招领请到前台"};
    private static final String[] ZH_BUTTON = {"登录", "注册", "继续", "取消", "提交", "下载", "立即购买", "了解更多", "开始使用", "订阅",
            "保存", "下一步", "返回", "加入购物车", "搜索"};
    private static final String[] ZH_SCREEN = {"欢迎回来", "创建账户", "设置", "我的订单", "支付信息", "消息通知", "重置密码", "个人资料"};
    private static final String[] ZH_FIELD = {"电子邮箱", "密码", "用户名", "记住我", "手机号码", "真实姓名", "收货地址"};
    private static final String[] ZH_WEEKDAY = {"一", "二", "三", "四", "五", "六", "日"};

    private boolean zh() {
        return lang == Lang.ZH;
    }

    public String headline() {
        if (zh()) return rng.pick(ZH_HEADLINE);
        return rng.chance(0.3) ? rng.pick(ADJ) + " " + rng.pick(THING) + " Festival" : rng.pick(HEADLINE);
    }

    public String subline() {
        if (zh()) {
            return switch (rng.nextInt(5)) {
                case 0 -> "全场" + rng.pick(ZH_NUM) + "折";
                case 1 -> "每天" + rng.between(7, 10) + "点至" + rng.between(18, 22) + "点营业";
                case 2 -> "门票" + rng.between(2, 19) * 10 + "元起";
                case 3 -> rng.between(1, 12) + "月" + rng.between(1, 28) + "日开始";
                default -> rng.pick(ZH_SUB);
            };
        }
        return switch (rng.nextInt(6)) {
            case 0 -> "Up to " + rng.between(2, 7) * 10 + "% off";
            case 1 -> "Open daily " + rng.between(7, 10) + "am to " + rng.between(6, 10) + "pm";
            case 2 -> "Tickets from $" + rng.between(5, 60);
            case 3 -> rng.pick(DAY) + " " + rng.pick(MONTH) + " " + rng.between(1, 28);
            case 4 -> "Since " + rng.between(1950, 2020);
            default -> rng.pick("Free entry for all", "This weekend only", "Handmade with love", "Best prices in town",
                    "Members save more", "While stocks last");
        };
    }

    public String shopName() {
        if (zh()) return rng.pick(ZH_ADJ) + rng.pick(ZH_SHOP);
        return rng.pick(ADJ) + " " + rng.pick(SHOP);
    }

    public String phone() {
        return (zh() ? "电话 " : "Call ") + rng.between(200, 999) + "-" + rng.between(1000, 9999);
    }

    public String bookTitle() {
        if (zh()) return rng.pick(ZH_PLACE) + "的" + rng.pick(ZH_THING);
        return rng.pick("The ", "") + rng.pick(ADJ) + " " + rng.pick(THING);
    }

    public String author() {
        if (zh()) return rng.pick(ZH_SURNAME) + rng.pick(ZH_GIVEN) + " 著";
        return rng.pick(FIRST) + " " + rng.pick(LAST);
    }

    public String bookKind() {
        return zh() ? rng.pick("长篇小说", "短篇故事集", "诗集", "散文集") : rng.pick("A Novel", "Stories", "Poems", "Essays");
    }

    public String product() {
        return zh() ? rng.pick(ZH_PRODUCT) : rng.pick(PRODUCT);
    }

    public String productDetail() {
        if (zh()) {
            return switch (rng.nextInt(3)) {
                case 0 -> "净含量" + rng.between(1, 9) * 50 + "克";
                case 1 -> "保质期" + rng.between(6, 24) + "个月";
                default -> "请置于阴凉干燥处";
            };
        }
        return switch (rng.nextInt(3)) {
            case 0 -> "Net Wt " + rng.between(1, 9) * 50 + "g";
            case 1 -> "Best before " + rng.pick(MONTH) + " " + rng.between(2027, 2030);
            default -> rng.pick("Store in a cool dry place", "Made with care", "Natural ingredients");
        };
    }

    public String noticeHeading() {
        return zh() ? rng.pick("通知", "注意", "温馨提示", "公告") : rng.pick("NOTICE", "ATTENTION", "PLEASE NOTE", "REMINDER");
    }

    public String noticeSentence() {
        if (zh()) return rng.chance(0.2) ? "本周" + rng.pick(ZH_WEEKDAY) + "办公室休息" : rng.pick(ZH_NOTICE);
        return rng.chance(0.2) ? "The office is closed on " + rng.pick(DAY) : rng.pick(NOTICE_EN);
    }

    public String signature() {
        return zh() ? rng.pick("物业管理处", "前台", "行政部", "店长") : rng.pick("The Management", "Front Desk", "Building Office", "Staff");
    }

    public String button() {
        return zh() ? rng.pick(ZH_BUTTON) : rng.pick(BUTTON);
    }

    public String screenTitle() {
        return zh() ? rng.pick(ZH_SCREEN) : rng.pick(SCREEN);
    }

    public String field() {
        return zh() ? rng.pick(ZH_FIELD) : rng.pick(FIELD);
    }

    public String openSign() {
        return zh() ? rng.pick("营业中", "欢迎光临", "外卖自取", "今日特价") : rng.pick("OPEN", "Welcome", "Take Away", "Today Special");
    }
}
