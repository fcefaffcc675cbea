package org.ovis4j.cli;

import java.nio.file.Path;
import org.ovis4j.hub.HubModels;
import org.ovis4j.hub.HubSettings;
import picocli.CommandLine.Option;

/**
 * {@code --model DIR | NAMESPACE/NAME[@REVISION]} and {@code --pull}, shared by every command that reads a checkpoint:
 * a folder is used as it is, a Hugging Face model comes from the Hub cache (shared with Python), downloaded or updated
 * first with {@code --pull}.
 */
final class ModelOption {
    @Option(names = "--model", required = true, paramLabel = "DIR|NAMESPACE/NAME[@REV]",
            description = "Checkpoint folder (diffusers or original layout), or a Hugging Face model NAMESPACE/NAME[@REVISION] "
                    + "from the Hub cache ($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub).")
    String value;

    @Option(names = "--pull", description = "Download the --model from the Hub into the cache first (only what is missing), as ovis4j pull does.")
    boolean pull;

    private Path folder;

    /** The checkpoint's folder, resolved (and pulled) once. */
    Path folder() {
        if (folder == null) folder = resolve(value, pull);
        return folder;
    }

    /** A --model value's folder, with a pull's progress on stderr. */
    static Path resolve(String value, boolean pull) {
        PullProgress progress = new PullProgress(System.err, System.console() != null);
        try {
            return HubModels.resolve(value, null, pull, HubSettings.fromEnvironment(), progress);
        } finally {
            progress.finish();
        }
    }
}
