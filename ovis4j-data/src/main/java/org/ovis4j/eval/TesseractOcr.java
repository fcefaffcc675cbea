package org.ovis4j.eval;

import static org.bytedeco.tesseract.global.tesseract.RIL_TEXTLINE;
import static org.bytedeco.tesseract.global.tesseract.RIL_WORD;
import static org.bytedeco.tesseract.global.tesseract.TessDeleteText;
import static org.bytedeco.tesseract.global.tesseract.TessResultIteratorDelete;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tesseract.ResultIterator;
import org.bytedeco.tesseract.TessBaseAPI;
import org.ovis4j.core.OvisException;
import org.ovis4j.data.render.Lang;

/**
 * Tesseract through the JavaCPP bindings (natives bundled in the jar; language data from the
 * system's tessdata). English uses eng, Chinese chi_sim, each in its own engine instance since a
 * single Tesseract instance cannot switch languages without reloading.
 */
public final class TesseractOcr implements OcrEngine {
    /** Debian's layout: /usr/share/tesseract-ocr/5/tessdata (the number is the major version). */
    static final Path DEBIAN_ROOT = Path.of("/usr/share/tesseract-ocr");

    private final Path tessdata;
    private final int psm;
    private final int scale;
    private final boolean allReadings;
    private final Map<Lang, TessBaseAPI> apis = new EnumMap<>(Lang.class);

    /**
     * @param tessdata folder holding the .traineddata files
     * @param psm      Tesseract page segmentation mode; 11 ("sparse text") suits designs where text
     *                 sits in separate spots better than the default page layout analysis
     */
    public TesseractOcr(Path tessdata, int psm) {
        this(tessdata, psm, 0, true);
    }

    /**
     * @param scale          enlargement factor before OCR, 0 for automatic (see {@link #upscale})
     * @param allReadings    also read the {@link InkMap} of the image and each text line found in it
     *                       on its own: Tesseract's global threshold loses whole lines in designs that
     *                       mix light and dark text or put text on coloured boards, and the ink map
     *                       loses others (thin strokes on busy grounds). The three readings are
     *                       returned separately; the metrics take the best one per target region
     */
    public TesseractOcr(Path tessdata, int psm, int scale, boolean allReadings) {
        this.tessdata = tessdata;
        this.psm = psm;
        this.scale = scale;
        this.allReadings = allReadings;
    }

    public static String traineddata(Lang lang) {
        return lang == Lang.ZH ? "chi_sim" : "eng";
    }

    /**
     * The tessdata folder: the one given, else $TESSDATA_PREFIX, else Debian's. Checks that it holds
     * the data for every language asked for, so a missing package is reported before any work.
     */
    public static Path locate(Path explicit, String envPrefix, Collection<Lang> langs) {
        Path dir;
        String source;
        if (explicit != null) {
            dir = explicit;
            source = "--tessdata";
        } else if (envPrefix != null && !envPrefix.isBlank()) {
            Path p = Path.of(envPrefix);
            // Tesseract accepts the prefix either as the tessdata folder or as its parent.
            dir = Files.isDirectory(p.resolve("tessdata")) && !Files.exists(p.resolve("eng.traineddata")) ? p.resolve("tessdata") : p;
            source = "TESSDATA_PREFIX";
        } else {
            dir = debianTessdata();
            source = "the system";
            if (dir == null) {
                throw new OvisException("no Tesseract language data found under " + DEBIAN_ROOT
                        + "; install tesseract-ocr-eng and tesseract-ocr-chi-sim, or pass --tessdata DIR");
            }
        }
        if (!Files.isDirectory(dir)) throw new OvisException("tessdata folder " + dir + " (from " + source + ") does not exist");
        for (Lang l : langs) {
            String name = traineddata(l) + ".traineddata";
            if (!Files.isRegularFile(dir.resolve(name))) {
                String pkg = l == Lang.ZH ? "tesseract-ocr-chi-sim" : "tesseract-ocr-eng";
                throw new OvisException("no " + name + " in " + dir + " (from " + source + "); install " + pkg
                        + " or pass --tessdata DIR");
            }
        }
        return dir;
    }

    private static Path debianTessdata() {
        if (!Files.isDirectory(DEBIAN_ROOT)) return null;
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> versions = Files.newDirectoryStream(DEBIAN_ROOT)) {
            for (Path v : versions) if (Files.isDirectory(v.resolve("tessdata"))) found.add(v.resolve("tessdata"));
        } catch (IOException e) {
            return null;
        }
        // Prefer the newest version's data when several are installed.
        found.sort((a, b) -> b.toString().compareTo(a.toString()));
        for (Path p : found) if (Files.isRegularFile(p.resolve("eng.traineddata"))) return p;
        return found.isEmpty() ? null : found.get(0);
    }

    @Override
    public String name() {
        return "tesseract " + version() + " (psm " + psm + ")";
    }

    private static String version() {
        try {
            BytePointer v = TessBaseAPI.Version();
            return v.getString();
        } catch (Throwable t) {
            return "?";
        }
    }

    private TessBaseAPI api(Lang lang) {
        TessBaseAPI api = apis.get(lang);
        if (api != null) return api;
        try {
            api = new TessBaseAPI();
        } catch (Throwable t) {
            throw new OvisException("cannot load the Tesseract native library (" + t + "); it is bundled for linux-x86_64 only");
        }
        // Tesseract prints diagnostics ("Estimating resolution ...") on stderr; they are not errors.
        api.SetVariable("debug_file", "/dev/null");
        if (api.Init(tessdata.toString(), traineddata(lang)) != 0) {
            api.close();
            throw new OvisException("Tesseract could not load " + traineddata(lang) + ".traineddata from " + tessdata);
        }
        api.SetPageSegMode(psm);
        apis.put(lang, api);
        return api;
    }

    /**
     * Below this word confidence Tesseract is guessing (measured in docs/evaluation.md, "Confidence
     * floor"). eng: every word of the clean validation renders that the OCR got right scored 0.8 or
     * more, while 92% of what it reads in noise scores under 0.5, and so did the near misses noise
     * offers ("ne" for "new"); 0.5 removes them at no cost. chi_sim: its confidences on correct
     * characters spread lower (21 of 564 under 0.5, 52 under 0.8; a floor of 0.5 costs 0.019 NED on
     * clean renders), and its noise earns nothing without a floor, because a one-character word must
     * be exactly right and a region needs more than half of its characters in one run.
     */
    static double minConfidence(Lang lang) {
        return lang == Lang.ZH ? 0.0 : 0.5;
    }

    /** Names of the readings, in the order {@link #read} returns them. */
    public static final String GREY = "grey", INK_MAP = "ink map", LINE_CROPS = "line crops";

    @Override
    public List<OcrReading> read(BufferedImage image, Lang lang) {
        BufferedImage img = upscale(image, scale > 0 ? scale : autoScale(image, lang));
        int w = img.getWidth(), h = img.getHeight();
        byte[] grey = new byte[w * h];
        int[] px = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < px.length; i++) {
            int c = px[i];
            grey[i] = (byte) Math.round(0.299 * ((c >> 16) & 255) + 0.587 * ((c >> 8) & 255) + 0.114 * (c & 255));
        }
        double floor = minConfidence(lang);
        List<OcrReading> readings = new ArrayList<>();
        readings.add(new OcrReading(GREY, read(grey, w, h, lang), floor));
        if (!allReadings) return readings;
        // A neighbourhood of 1/20 of the image is wider than the strokes of large titles yet mostly
        // ground; 60 (of 441) is a colour difference any readable text exceeds.
        byte[] ink = InkMap.of(img, Math.max(4, Math.max(w, h) / 20), 60);
        readings.add(new OcrReading(INK_MAP, read(ink, w, h, lang), floor));
        // Then each line on its own, as a single text line. Lines are found in a fine-grained ink
        // map (a small neighbourhood outlines boards and bands instead of filling them, so text on
        // them stays separate), and read from the grey image: inside a tight crop there are only
        // the text's and the ground's colours, and Tesseract's threshold separates them cleanly.
        // The crops' lines together, top to bottom, are the third reading.
        byte[] fine = InkMap.of(img, Math.max(3, Math.max(w, h) / 64), 60);
        List<OcrReading.Line> crops = new ArrayList<>();
        TessBaseAPI api = api(lang);
        api.SetPageSegMode(7);
        try {
            for (LineFinder.Box b : LineFinder.find(fine, w, h)) {
                int pad = Math.max(4, b.h() / 3);
                int x0 = Math.max(0, b.x() - pad), y0 = Math.max(0, b.y() - pad);
                int x1 = Math.min(w, b.x() + b.w() + pad), y1 = Math.min(h, b.y() + b.h() + pad);
                int cw = x1 - x0, chh = y1 - y0;
                byte[] crop = new byte[cw * chh];
                for (int y = 0; y < chh; y++) System.arraycopy(grey, (y0 + y) * w + x0, crop, y * cw, cw);
                crops.addAll(read(crop, cw, chh, lang));
            }
        } finally {
            api.SetPageSegMode(psm);
        }
        readings.add(new OcrReading(LINE_CROPS, crops, floor));
        return readings;
    }

    /** The words Tesseract finds in a grey image, line by line, with its word confidences. */
    private List<OcrReading.Line> read(byte[] grey, int w, int h, Lang lang) {
        TessBaseAPI api = api(lang);
        api.SetImage(grey, w, h, 1, w);
        api.SetSourceResolution(300);
        List<OcrReading.Line> lines = new ArrayList<>();
        try {
            if (api.Recognize(null) != 0) return lines;
            ResultIterator it = api.GetIterator();
            if (it == null || it.isNull()) return lines;
            try {
                List<OcrReading.Word> line = new ArrayList<>();
                it.Begin();
                do {
                    if (it.IsAtBeginningOf(RIL_TEXTLINE) && !line.isEmpty()) {
                        lines.add(new OcrReading.Line(line));
                        line = new ArrayList<>();
                    }
                    BytePointer word = it.GetUTF8Text(RIL_WORD);
                    if (word == null || word.isNull()) continue;
                    try {
                        String text = word.getString(StandardCharsets.UTF_8).strip();
                        // Tesseract's confidence is a percentage.
                        if (!text.isEmpty()) line.add(new OcrReading.Word(text, Math.max(0, Math.min(100, it.Confidence(RIL_WORD))) / 100.0));
                    } finally {
                        TessDeleteText(word);  // Tesseract allocated it with new[]
                    }
                } while (it.Next(RIL_WORD));
                if (!line.isEmpty()) lines.add(new OcrReading.Line(line));
            } finally {
                TessResultIteratorDelete(it);  // GetIterator hands over ownership
            }
            return lines;
        } finally {
            api.Clear();
        }
    }

    /**
     * The enlargement used when none is given. Measured on clean renders from the data engine
     * (docs/evaluation.md): the English model gains from doubling 512-pixel images (small captions
     * get to its preferred 20-40 px letter height), while the Chinese model does best on characters
     * at the 26-80 px they already have and loses accuracy when they are doubled.
     */
    static int autoScale(BufferedImage img, Lang lang) {
        int longSide = Math.max(img.getWidth(), img.getHeight());
        int target = lang == Lang.ZH ? 512 : 1024;
        return Math.min(4, Math.max(1, target / Math.max(1, longSide)));
    }

    static BufferedImage upscale(BufferedImage src, int factor) {
        if (factor <= 1) return src;
        BufferedImage out = new BufferedImage(src.getWidth() * factor, src.getHeight() * factor, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(src, 0, 0, out.getWidth(), out.getHeight(), null);
        g.dispose();
        return out;
    }

    @Override
    public void close() {
        for (TessBaseAPI api : apis.values()) {
            api.End();
            api.close();
        }
        apis.clear();
    }

    /** The default page segmentation mode used by the command. */
    public static final int DEFAULT_PSM = 11;
}
