package org.ovis4j.data.render;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.ovis4j.core.OvisException;

/** The languages text is rendered in; the codes are the ones prompts and metadata use. */
public enum Lang {
    EN("en"),
    ZH("zh");

    public final String code;

    Lang(String code) {
        this.code = code;
    }

    public static Lang of(String code) {
        String c = code.trim().toLowerCase(Locale.ROOT);
        for (Lang l : values()) if (l.code.equals(c)) return l;
        if (c.equals("zh-cn") || c.equals("zh_cn") || c.equals("chi_sim") || c.equals("cn")) return ZH;
        if (c.equals("eng")) return EN;
        throw new OvisException("unknown language '" + code.trim() + "' (use en, zh)");
    }

    /** A comma-separated list such as "en,zh"; empty entries and repeats are errors. */
    public static List<Lang> parseList(String list) {
        if (list == null || list.isBlank()) throw new OvisException("--lang is empty (use en, zh or en,zh)");
        List<Lang> out = new ArrayList<>();
        for (String part : list.split(",", -1)) {
            if (part.isBlank()) throw new OvisException("--lang '" + list + "' has an empty entry (use en, zh or en,zh)");
            Lang l = of(part);
            if (out.contains(l)) throw new OvisException("--lang '" + list + "' names " + l.code + " twice");
            out.add(l);
        }
        return out;
    }
}
