package org.ovis4j.hub;

import java.util.regex.Pattern;
import org.ovis4j.core.OvisException;

/**
 * A model on the Hub at a revision, written {@code NAMESPACE/NAME[@REVISION]}: a branch, a tag or a commit
 * hash, {@code main} when none is given (huggingface_hub's default revision).
 */
public record ModelRef(RepoId repo, String revision) {
    public static final String DEFAULT_REVISION = "main";
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    public ModelRef {
        checkRevision(revision);
    }

    /** {@code NAMESPACE/NAME} or {@code NAMESPACE/NAME@REVISION}. */
    public static ModelRef parse(String text) {
        int at = text.indexOf('@');
        RepoId repo = RepoId.parse(at < 0 ? text : text.substring(0, at));
        return new ModelRef(repo, at < 0 ? DEFAULT_REVISION : text.substring(at + 1));
    }

    /** Whether {@code text} reads as {@code NAMESPACE/NAME[@REVISION]} (it may still name a folder too). */
    public static boolean looksLike(String text) {
        int at = text.indexOf('@');
        if (!RepoId.isValid(at < 0 ? text : text.substring(0, at))) return false;
        try {
            checkRevision(at < 0 ? DEFAULT_REVISION : text.substring(at + 1));
            return true;
        } catch (OvisException e) {
            return false;
        }
    }

    /** Whether a revision is a full commit hash, which names a snapshot without looking anything up. */
    public static boolean isCommit(String revision) {
        return COMMIT.matcher(revision).matches();
    }

    /**
     * A revision names a file under {@code refs/} in the cache (branches like {@code refs/pr/1} hold slashes), so it must
     * not climb out of it.
     */
    private static void checkRevision(String revision) {
        if (revision == null || revision.isEmpty() || revision.startsWith("/") || revision.endsWith("/") || revision.contains("//"))
            throw new OvisException("\"" + revision + "\" is not a revision (a branch, tag or commit hash)");
        for (String part : revision.split("/", -1))
            if (part.equals(".") || part.equals("..") || part.endsWith(".lock"))
                throw new OvisException("\"" + revision + "\" is not a revision (a branch, tag or commit hash)");
        for (int i = 0; i < revision.length(); i++) {
            char c = revision.charAt(i);
            if (c <= ' ' || c == 0x7f || c == '\\' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' || c == '[')
                throw new OvisException("\"" + revision + "\" is not a revision (a branch, tag or commit hash)");
        }
    }

    @Override
    public String toString() {
        return revision.equals(DEFAULT_REVISION) ? repo.toString() : repo + "@" + revision;
    }
}
