package org.ovis4j.data.render;

import java.awt.Font;
import java.awt.FontFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.ovis4j.core.OvisException;

/**
 * The fonts the engine draws with: the Debian packages fonts-dejavu-core, fonts-liberation and
 * fonts-noto-cjk, loaded from their files. A fixed list (rather than whatever is installed) keeps a
 * seed's output identical on every machine that has these packages, and a missing file is an error
 * that names the package instead of a silent fallback to some other font.
 */
public final class FontCatalog {
    /** Where Debian puts them; a second root can be given for other layouts. */
    public static final Path DEFAULT_ROOT = Path.of("/usr/share/fonts");

    private record Wanted(String relative, String face, boolean bold, boolean serif, boolean cjk, String pkg) {}

    private static final List<Wanted> WANTED = List.of(
            new Wanted("truetype/dejavu/DejaVuSans.ttf", null, false, false, false, "fonts-dejavu-core"),
            new Wanted("truetype/dejavu/DejaVuSans-Bold.ttf", null, true, false, false, "fonts-dejavu-core"),
            new Wanted("truetype/dejavu/DejaVuSerif.ttf", null, false, true, false, "fonts-dejavu-core"),
            new Wanted("truetype/dejavu/DejaVuSerif-Bold.ttf", null, true, true, false, "fonts-dejavu-core"),
            new Wanted("truetype/liberation/LiberationSans-Regular.ttf", null, false, false, false, "fonts-liberation"),
            new Wanted("truetype/liberation/LiberationSans-Bold.ttf", null, true, false, false, "fonts-liberation"),
            new Wanted("truetype/liberation/LiberationSerif-Regular.ttf", null, false, true, false, "fonts-liberation"),
            new Wanted("truetype/liberation/LiberationSerif-Bold.ttf", null, true, true, false, "fonts-liberation"),
            new Wanted("truetype/liberation/LiberationMono-Bold.ttf", null, true, false, false, "fonts-liberation"),
            new Wanted("truetype/liberation/LiberationSansNarrow-Bold.ttf", null, true, false, false, "fonts-liberation"),
            // The .ttc collections hold JP/KR/SC/TC/HK faces; the SC one has the simplified forms.
            new Wanted("opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC", false, false, true, "fonts-noto-cjk"),
            new Wanted("opentype/noto/NotoSansCJK-Bold.ttc", "Noto Sans CJK SC Bold", true, false, true, "fonts-noto-cjk"),
            new Wanted("opentype/noto/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC", false, true, true, "fonts-noto-cjk"),
            new Wanted("opentype/noto/NotoSerifCJK-Bold.ttc", "Noto Serif CJK SC Bold", true, true, true, "fonts-noto-cjk"));

    private final List<FontFace> latin = new ArrayList<>();
    private final List<FontFace> cjk = new ArrayList<>();

    private FontCatalog() {}

    private static FontCatalog system;

    /** The catalog under /usr/share/fonts, loaded once per JVM (parsing the CJK collections is slow). */
    public static synchronized FontCatalog system() {
        if (system == null) system = load(DEFAULT_ROOT);
        return system;
    }

    public static FontCatalog load(Path root) {
        FontCatalog c = new FontCatalog();
        for (Wanted w : WANTED) {
            Path file = root.resolve(w.relative);
            if (!Files.isRegularFile(file)) {
                throw new OvisException("font " + file + " not found; install the Debian package " + w.pkg
                        + " (apt-get install fonts-dejavu-core fonts-liberation fonts-noto-cjk)");
            }
            Font font = pickFace(file, w);
            FontFace face = new FontFace(font.getFontName(java.util.Locale.ROOT), file.getFileName().toString(),
                    w.bold, w.serif, w.cjk, font);
            (w.cjk ? c.cjk : c.latin).add(face);
        }
        return c;
    }

    private static Font pickFace(Path file, Wanted w) {
        try {
            Font[] fonts = Font.createFonts(file.toFile());
            if (w.face == null) return fonts[0];
            for (Font f : fonts) {
                if (f.getFontName(java.util.Locale.ROOT).equals(w.face)) return f;
            }
            throw new OvisException("font " + file + " has no face named '" + w.face + "'; reinstall " + w.pkg);
        } catch (FontFormatException | IOException e) {
            throw new OvisException("font " + file + " cannot be read (" + e.getMessage() + "); reinstall " + w.pkg);
        }
    }

    /** Faces that can draw text in the language: CJK faces for Chinese, Latin faces for English. */
    public List<FontFace> forLang(Lang lang) {
        return lang == Lang.ZH ? cjk : latin;
    }
}
