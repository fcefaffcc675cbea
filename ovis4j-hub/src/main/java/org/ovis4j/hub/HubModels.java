package org.ovis4j.hub;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import org.ovis4j.core.OvisException;

/**
 * Where a model named by the user is on disk: what {@code --model}, a training config's {@code "model"} and the
 * framework integrations accept. An existing path stays that path; otherwise {@code NAMESPACE/NAME[@REVISION]} is a model
 * of the Hugging Face Hub, found in the shared cache (pulled first when asked). Anything else is returned as the path it
 * names, for the loader to report as missing.
 */
public final class HubModels {
    private HubModels() {}

    /** {@link #resolve(String, Path, boolean, HubSettings, PullListener)} with this process's environment, quietly. */
    public static Path resolve(String folderOrRepoId, boolean pull) {
        return resolve(folderOrRepoId, null, pull, HubSettings.fromEnvironment(), PullListener.NONE);
    }

    /**
     * The local folder (or file) for {@code folderOrRepoId}.
     *
     * @param folderOrRepoId a path, or {@code NAMESPACE/NAME} or {@code NAMESPACE/NAME@REVISION} (a branch, tag or commit)
     * @param base           the folder a relative path is taken from (a config file's folder), or null for the working folder
     * @param pull           true: bring the cache's snapshot up to date with the Hub first (the cache only when offline);
     *                       false: the cache only
     * @return the path as given (resolved against {@code base}) when it exists, else the snapshot folder
     *         {@code CACHE/models--NAMESPACE--NAME/snapshots/COMMIT}
     * @throws OvisException a Hub id that is not in the cache (and {@code pull} is false), or a failed pull
     */
    public static Path resolve(String folderOrRepoId, Path base, boolean pull, HubSettings settings, PullListener listener) {
        Path path = null;
        try {
            path = base == null ? Path.of(folderOrRepoId) : base.resolve(folderOrRepoId).normalize();
        } catch (InvalidPathException e) {
            if (!ModelRef.looksLike(folderOrRepoId)) throw new OvisException("\"" + folderOrRepoId + "\" cannot be a file name: " + e.getReason());
        }
        if (path != null && Files.exists(path)) return path;
        if (!ModelRef.looksLike(folderOrRepoId)) return path;
        ModelRef model = ModelRef.parse(folderOrRepoId);
        try (Hub hub = new Hub(settings)) {
            if (pull) return hub.pull(model, List.of(), listener);
            return hub.cached(model).orElseThrow(() -> new OvisException(folderOrRepoId + ": no such folder, and no " + model
                    + " in the Hub cache at " + settings.cache() + " (ovis4j pull " + model.repo()
                    + (model.revision().equals(ModelRef.DEFAULT_REVISION) ? "" : " --revision " + model.revision()) + ", or add --pull)"));
        }
    }
}
