package org.ovis4j.server.api;

import java.security.SecureRandom;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ovis4j.server.http.ApiException;
import org.ovis4j.server.job.JobRequest;

/**
 * The body of {@code POST /v1/images/generations} (and of {@code POST /v1/jobs}, which takes the
 * same), read as OpenAI defines it plus ovis4j's extensions, into a {@link JobRequest}. Every
 * problem is a 400 that names the field; fields nobody defined are refused, as OpenAI does, so
 * that a misspelt {@code negative_promt} is not silently ignored.
 */
public final class ImageRequestMapping {
    /** OpenAI's fields this server honours, then ovis4j's extensions. */
    static final Set<String> FIELDS = Set.of("prompt", "model", "n", "size", "response_format", "output_format", "user",
            "negative_prompt", "steps", "guidance", "seed");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,5})x(\\d{1,5})");
    private static final SecureRandom SEEDS = new SecureRandom();

    /** What came with the request besides the generation itself. */
    public record Mapped(JobRequest request, boolean asUrl) {}

    private final Limits limits;
    private final String modelId;

    public ImageRequestMapping(Limits limits, String modelId) {
        this.limits = limits;
        this.modelId = modelId;
    }

    public Mapped map(Map<String, Object> body) {
        for (String k : body.keySet())
            if (!FIELDS.contains(k))
                throw new ApiException(400, "unknown_parameter", clip(k), "unknown parameter " + clip(k) + " (accepted: " + String.join(", ", FIELDS.stream().sorted().toList()) + ")");
        String prompt = string(body, "prompt", null);
        if (prompt == null) throw new ApiException(400, "missing_parameter", "prompt", "prompt: required");
        checkText("prompt", prompt);
        if (prompt.isBlank()) throw ApiException.badField("prompt", "must not be empty");
        String negative = string(body, "negative_prompt", "");
        checkText("negative_prompt", negative);
        String model = string(body, "model", null);
        if (model != null && !model.equals(modelId))
            throw new ApiException(400, "model_not_found", "model", "model: this server serves \"" + modelId + "\", not \"" + clip(model) + "\"");
        string(body, "user", null); // accepted and ignored, as a label of the end user
        int n = integer(body, "n", 1, 1, limits.maxImages());
        int[] size = size(string(body, "size", "auto"));
        int steps = integer(body, "steps", limits.defaultSteps(), 1, limits.maxSteps());
        double guidance = number(body, "guidance", 5.0, 0, 100);
        long seed = body.containsKey("seed") && body.get("seed") != null ? seed(body.get("seed")) : SEEDS.nextLong() & 0xFFFF_FFFFL;
        String format = string(body, "response_format", "b64_json");
        if (!format.equals("b64_json") && !format.equals("url"))
            throw ApiException.badField("response_format", "must be b64_json or url, not \"" + clip(format) + "\"");
        String output = string(body, "output_format", "png");
        if (!output.equals("png")) throw ApiException.badField("output_format", "only png is produced, not \"" + clip(output) + "\"");
        return new Mapped(new JobRequest(prompt, negative, size[0], size[1], steps, (float) guidance, seed, n), format.equals("url"));
    }

    private int[] size(String s) {
        if (s.equals("auto")) return new int[] {limits.defaultSide(), limits.defaultSide()};
        Matcher m = SIZE.matcher(s);
        if (!m.matches()) throw ApiException.badField("size", "must be WIDTHxHEIGHT (e.g. 1024x1024) or auto, not \"" + clip(s) + "\"");
        int w = Integer.parseInt(m.group(1)), h = Integer.parseInt(m.group(2));
        if (w < 16 || h < 16 || w % 16 != 0 || h % 16 != 0)
            throw ApiException.badField("size", "width and height must be multiples of 16 from 16, not " + w + "x" + h);
        if (w > limits.maxWidth() || h > limits.maxHeight())
            throw ApiException.badField("size", w + "x" + h + " is over this server's limit of " + limits.maxWidth() + "x" + limits.maxHeight());
        return new int[] {w, h};
    }

    private void checkText(String field, String s) {
        if (s.length() > limits.maxPromptChars())
            throw ApiException.badField(field, "is " + s.length() + " characters; the limit is " + limits.maxPromptChars());
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            // JSON's \\u escapes can spell half a surrogate pair, which is no text at all.
            if (Character.isHighSurrogate(c) && k + 1 < s.length() && Character.isLowSurrogate(s.charAt(k + 1))) k++;
            else if (Character.isSurrogate(c)) throw ApiException.badField(field, "contains an unpaired surrogate (\\u" + Integer.toHexString(c) + ")");
            else if (c == 0) throw ApiException.badField(field, "contains a NUL character");
        }
    }

    private static String string(Map<String, Object> body, String field, String dflt) {
        Object v = body.get(field);
        if (v == null) return dflt;
        if (!(v instanceof String s)) throw ApiException.badField(field, "must be a string, not " + type(v));
        return s;
    }

    private static int integer(Map<String, Object> body, String field, int dflt, int min, int max) {
        Object v = body.get(field);
        if (v == null) return dflt;
        long n;
        if (v instanceof Long l) n = l;
        else if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 1e15) n = d.longValue();
        else throw ApiException.badField(field, "must be a whole number, not " + type(v));
        if (n < min || n > max) throw ApiException.badField(field, "must be from " + min + " to " + max + ", not " + n);
        return (int) n;
    }

    private static double number(Map<String, Object> body, String field, double dflt, double min, double max) {
        Object v = body.get(field);
        if (v == null) return dflt;
        if (!(v instanceof Number num)) throw ApiException.badField(field, "must be a number, not " + type(v));
        double d = num.doubleValue();
        if (!Double.isFinite(d) || d < min || d > max) throw ApiException.badField(field, "must be from " + min + " to " + max + ", not " + num);
        return d;
    }

    private static long seed(Object v) {
        if (v instanceof Long l) return l;
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) <= 9.007199254740992e15) return d.longValue();
        throw ApiException.badField("seed", "must be a whole number that fits 64 bits, not " + type(v));
    }

    private static String type(Object v) {
        return switch (v) {
            case String s -> "a string";
            case Boolean b -> "a boolean";
            case Map<?, ?> m -> "an object";
            case java.util.List<?> l -> "an array";
            case Double d -> d.isInfinite() ? "a number out of range" : Double.toString(d);
            default -> String.valueOf(v);
        };
    }

    private static String clip(String s) {
        String t = s.replaceAll("\\p{Cntrl}", "?");
        return t.length() > 40 ? t.substring(0, 40) + "..." : t;
    }
}
