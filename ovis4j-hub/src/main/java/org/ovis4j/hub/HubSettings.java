package org.ovis4j.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ovis4j.core.OvisException;

/**
 * Where the Hub is, where its cache is, the token and whether to go online at all: read from the
 * environment exactly as Python's huggingface_hub reads it ({@code constants.py}), so that both sides share
 * one cache and one configuration.
 *
 * <ul>
 *   <li>cache: {@code HF_HUB_CACHE}, else the legacy {@code HUGGINGFACE_HUB_CACHE}, else {@code $HF_HOME/hub};
 *       {@code HF_HOME} defaults to {@code $XDG_CACHE_HOME/huggingface}, and that to {@code ~/.cache/huggingface}.
 *       {@code ~} and {@code $VARIABLES} in them are expanded, as Python's {@code expanduser}/{@code expandvars} do.</li>
 *   <li>endpoint: {@code HF_ENDPOINT} (trailing slashes dropped), default {@code https://huggingface.co}.</li>
 *   <li>token: {@code HF_TOKEN} (or the legacy {@code HUGGING_FACE_HUB_TOKEN}), else the file {@code HF_TOKEN_PATH},
 *       default {@code $HF_HOME/token} (what {@code hf auth login} writes); blank means none.</li>
 *   <li>offline: {@code HF_HUB_OFFLINE} (or {@code TRANSFORMERS_OFFLINE}) set to 1, ON, YES or TRUE.</li>
 * </ul>
 *
 * @param endpoint the Hub's base URL, without a trailing slash
 * @param cache    the hub cache folder (holding {@code models--NAMESPACE--NAME} folders)
 * @param token    the access token sent to the endpoint, or null
 * @param offline  true: never touch the network, use the cache only
 */
public record HubSettings(String endpoint, Path cache, String token, boolean offline) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";
    private static final Set<String> TRUE = Set.of("1", "ON", "YES", "TRUE");

    public HubSettings {
        endpoint = checkEndpoint(endpoint);
        if (cache == null) throw new IllegalArgumentException("cache");
        if (token != null && token.isBlank()) token = null;
    }

    /** This process's environment. */
    public static HubSettings fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** The settings an environment with these variables gives (tests pass their own). */
    public static HubSettings fromEnvironment(Map<String, String> env) {
        String home = nonEmpty(env.get("HOME")) != null ? env.get("HOME") : System.getProperty("user.home");
        String xdg = nonEmpty(env.get("XDG_CACHE_HOME"));
        Path hfHome = expand(nonEmpty(env.get("HF_HOME")) != null ? env.get("HF_HOME")
                : (xdg != null ? xdg : home + "/.cache") + "/huggingface", env, home);
        String cacheVar = nonEmpty(env.get("HF_HUB_CACHE")) != null ? env.get("HF_HUB_CACHE") : nonEmpty(env.get("HUGGINGFACE_HUB_CACHE"));
        Path cache = cacheVar != null ? expand(cacheVar, env, home) : hfHome.resolve("hub");

        String endpoint = nonEmpty(env.get("HF_ENDPOINT")) != null ? env.get("HF_ENDPOINT") : DEFAULT_ENDPOINT;
        try {
            endpoint = checkEndpoint(endpoint);
        } catch (OvisException e) {
            throw new OvisException("HF_ENDPOINT: " + e.getMessage());
        }

        String token = nonEmpty(env.get("HF_TOKEN")) != null ? env.get("HF_TOKEN") : nonEmpty(env.get("HUGGING_FACE_HUB_TOKEN"));
        if (token == null || token.isBlank()) {
            Path tokenFile = nonEmpty(env.get("HF_TOKEN_PATH")) != null ? expand(env.get("HF_TOKEN_PATH"), env, home) : hfHome.resolve("token");
            token = readToken(tokenFile);
        }
        String offline = nonEmpty(env.get("HF_HUB_OFFLINE")) != null ? env.get("HF_HUB_OFFLINE") : env.get("TRANSFORMERS_OFFLINE");
        return new HubSettings(endpoint, cache, token == null ? null : token.strip(),
                offline != null && TRUE.contains(offline.toUpperCase(Locale.ROOT)));
    }

    public HubSettings withEndpoint(String url) {
        return new HubSettings(url, cache, token, offline);
    }

    public HubSettings withCache(Path folder) {
        return new HubSettings(endpoint, folder, token, offline);
    }

    public HubSettings withToken(String accessToken) {
        return new HubSettings(endpoint, cache, accessToken, offline);
    }

    public HubSettings withOffline(boolean cacheOnly) {
        return new HubSettings(endpoint, cache, token, cacheOnly);
    }

    /** A token is never printed: settings show up in logs and error reports. */
    @Override
    public String toString() {
        return "HubSettings[endpoint=" + endpoint + ", cache=" + cache + ", token=" + (token == null ? "none" : "set") + ", offline=" + offline + "]";
    }

    private static String checkEndpoint(String url) {
        String u = url == null ? "" : url.strip();
        while (u.endsWith("/")) u = u.substring(0, u.length() - 1);
        try {
            URI uri = new URI(u);
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null && uri.getQuery() == null
                    && uri.getFragment() == null)
                return u;
        } catch (java.net.URISyntaxException e) {
            // reported below
        }
        throw new OvisException("\"" + url + "\" is not an http(s) URL of a Hub, e.g. " + DEFAULT_ENDPOINT);
    }

    /** The token file's first line; a missing or unreadable file means no token, as in huggingface_hub. */
    private static String readToken(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            int nl = text.indexOf('\n');
            return nonEmpty(nl < 0 ? text : text.substring(0, nl).strip());
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    private static String nonEmpty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static final Pattern VARIABLE = Pattern.compile("\\$(\\w+|\\{[^}]*})");

    /** {@code ~} and {@code $NAME}/{@code ${NAME}} as Python's expanduser and expandvars: unknown variables stay as written. */
    static Path expand(String path, Map<String, String> env, String home) {
        String p = path;
        if (p.equals("~") || p.startsWith("~/")) p = home + p.substring(1);
        Matcher m = VARIABLE.matcher(p);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1).startsWith("{") ? m.group(1).substring(1, m.group(1).length() - 1) : m.group(1);
            String value = env.get(name);
            m.appendReplacement(out, Matcher.quoteReplacement(value != null ? value : m.group()));
        }
        m.appendTail(out);
        return Path.of(out.toString());
    }
}
