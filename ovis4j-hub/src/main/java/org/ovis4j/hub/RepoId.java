package org.ovis4j.hub;

import java.util.regex.Pattern;
import org.ovis4j.core.OvisException;

/**
 * A model repository on the Hub, {@code NAMESPACE/NAME}, checked by huggingface_hub's rules
 * ({@code validate_repo_id}): letters, digits, {@code - _ .}, at most 96 characters a part, not starting or
 * ending with {@code -} or {@code .}, no {@code --} or {@code ..} (the cache folder name joins the parts with
 * {@code --}, so a part holding it could name another repository's folder), not ending in {@code .git}.
 * ovis4j always wants the namespace: a bare {@code NAME} is far more often a mistyped folder.
 */
public record RepoId(String namespace, String name) {
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?");

    public RepoId {
        if (!valid(namespace) || !valid(name) || name.endsWith(".git"))
            throw new OvisException("\"" + namespace + "/" + name + "\" is not a Hub repository id (NAMESPACE/NAME: letters, digits, "
                    + "'-', '_', '.'; no '--' or '..'; at most 96 characters each)");
    }

    /** {@code NAMESPACE/NAME}. */
    public static RepoId parse(String id) {
        int slash = id.indexOf('/');
        if (slash < 0 || slash != id.lastIndexOf('/'))
            throw new OvisException("\"" + id + "\" is not a Hub repository id (expected NAMESPACE/NAME)");
        return new RepoId(id.substring(0, slash), id.substring(slash + 1));
    }

    /** Whether {@code id} is a valid {@code NAMESPACE/NAME}. */
    public static boolean isValid(String id) {
        int slash = id.indexOf('/');
        return slash > 0 && slash == id.lastIndexOf('/') && valid(id.substring(0, slash)) && valid(id.substring(slash + 1))
                && !id.endsWith(".git");
    }

    private static boolean valid(String part) {
        return part != null && PART.matcher(part).matches() && !part.contains("--") && !part.contains("..");
    }

    /** The folder of this repository in the cache: {@code models--NAMESPACE--NAME} (huggingface_hub's {@code repo_folder_name}). */
    public String cacheFolderName() {
        return "models--" + namespace + "--" + name;
    }

    @Override
    public String toString() {
        return namespace + "/" + name;
    }
}
