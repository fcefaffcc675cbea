package org.ovis4j.server.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The optional API key, checked against {@code Authorization: Bearer KEY}. Both sides are hashed
 * first and the digests compared with {@link MessageDigest#isEqual} (constant time for equal
 * lengths): the comparison's duration tells nothing about the key, not even its length.
 */
public final class BearerKey {
    private final byte[] digest;

    private BearerKey(String key) {
        this.digest = sha256(key);
    }

    /** A key, or null when none is set (every request is then allowed). */
    public static BearerKey of(String key) {
        return key == null || key.isEmpty() ? null : new BearerKey(key);
    }

    /** Whether an Authorization header value carries this key. */
    public boolean accepts(String authorization) {
        String presented = "";
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) presented = authorization.substring(7).trim();
        return MessageDigest.isEqual(digest, sha256(presented));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
